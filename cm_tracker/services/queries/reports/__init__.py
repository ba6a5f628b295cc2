"""Manager reports (docs/rules.md 8): outcomes, fidelity, budget and exports, computed in grouped SQL over the report
cache (EventOutcome, kept by summaries.refresh_outcomes), the visits and the ledger; never a query per patient."""
