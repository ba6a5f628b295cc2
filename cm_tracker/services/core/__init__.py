"""The single owners that use cases and queries both build on: the clinic calendar, rows -> engine events and the
re-evaluation, the ledger and balances, stock, the audit row. Nothing here commits; the calling use case does."""
