"""Use cases: one function each, the only code that commits. Views and the API call these, never the models' rules."""
