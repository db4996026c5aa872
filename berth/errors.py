"""One exception tree for berth. Services raise these; the CLI, the SSH shell and the HTTP API
turn them into an exit code or HTTP status in one place each.

    BerthError                  base; exit 1, HTTP 400
    ├── ValidationError         bad input from a user (name, env, domain, Procfile ...); exit 2
    ├── NotFound                an app, release, key ... that does not exist; exit 3, HTTP 404
    ├── AlreadyExists           creating something that exists; exit 4, HTTP 409
    ├── PermissionDenied        the actor may not do this; exit 13, HTTP 403
    ├── LockTimeout             another deploy holds the app's lock; exit 5, HTTP 409
    ├── BuildError              no builder matched, or the build failed; exit 6
    ├── DeployError             the new release failed its checks; previous release kept; exit 7
    ├── RouterError             the router refused a config or is unreachable; exit 8
    ├── EngineError             the Docker engine failed or is unreachable; exit 9
    └── PluginError             a plugin's pre_* hook refused, or a plugin is broken; exit 10
"""

from __future__ import annotations


class BerthError(Exception):
    exit_code = 1
    http_status = 400


class ValidationError(BerthError):
    exit_code = 2


class NotFound(BerthError):
    exit_code = 3
    http_status = 404


class AlreadyExists(BerthError):
    exit_code = 4
    http_status = 409


class PermissionDenied(BerthError):
    exit_code = 13
    http_status = 403


class LockTimeout(BerthError):
    exit_code = 5
    http_status = 409


class BuildError(BerthError):
    exit_code = 6


class DeployError(BerthError):
    exit_code = 7


class RouterError(BerthError):
    exit_code = 8
    http_status = 502


class EngineError(BerthError):
    exit_code = 9
    http_status = 502


class PluginError(BerthError):
    exit_code = 10
