"""Schedulers run release containers: docker_local is the default."""
