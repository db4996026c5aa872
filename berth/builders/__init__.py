"""Builders turn a checked-out source tree into a Docker image (see detect.py for the order)."""
