"""Read models for pages, the portal, the API and reports: they read stored state and never commit."""
