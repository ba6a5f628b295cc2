"""Demo and load-test tooling, called by `flask demo ...`: built through the services or, in bulk, beside them."""
