"""`berth server`: supervises the router, serves git over HTTP, runs the reconciler."""
