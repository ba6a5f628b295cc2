"""The application's services, in three tiers (docs/architecture.md; tests/test_architecture.py checks the order).

core: the single owner of each rule and stored fact, never committing; queries: read models for pages, the portal,
the API and reports, never committing; usecases: one function per use case, the only code that commits.
"""
