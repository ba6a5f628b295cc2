"""Programme administration pages: presets, programme fields and versioned schedules."""
