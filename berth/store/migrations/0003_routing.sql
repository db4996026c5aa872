-- Routing: domains, ports, certificates, redirects, basic-auth users.
-- Scalar per-app proxy settings (body size, timeouts, maintenance, tls.auto ...) live in
-- app_settings under "proxy.*", "maintenance.*", "tls.*" and "domains.*" keys.

-- Extra global domains; the first global domain is the settings key "domain".
CREATE TABLE global_domains (
    domain TEXT PRIMARY KEY,
    position INTEGER NOT NULL
);

-- Custom domains of an app; a domain belongs to one app at most.
CREATE TABLE domains (
    domain TEXT PRIMARY KEY,
    app_id INTEGER NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
    created_at REAL NOT NULL
);
CREATE INDEX domains_app ON domains(app_id);

-- Port mappings scheme:host_port:container_port; none = the default mapping.
CREATE TABLE ports (
    app_id INTEGER NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
    scheme TEXT NOT NULL CHECK (scheme IN ('http', 'https')),
    host_port INTEGER NOT NULL CHECK (host_port BETWEEN 1 AND 65535),
    container_port INTEGER NOT NULL CHECK (container_port BETWEEN 1 AND 65535),
    PRIMARY KEY (app_id, scheme, host_port)
);

-- One certificate per app (PEM); files under ROOT/tls/APP/ are written from these rows.
CREATE TABLE certs (
    app_id INTEGER PRIMARY KEY REFERENCES apps(id) ON DELETE CASCADE,
    cert_pem TEXT NOT NULL,
    key_pem TEXT NOT NULL,
    source TEXT NOT NULL CHECK (source IN ('custom', 'generated')),
    created_at REAL NOT NULL
);

-- Host redirects: requests for from_host are sent to to_host (path and query kept).
CREATE TABLE redirects (
    from_host TEXT PRIMARY KEY,
    app_id INTEGER NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
    to_host TEXT NOT NULL,
    code INTEGER NOT NULL CHECK (code IN (301, 302, 307, 308))
);

-- HTTP basic auth users; password_hash is bcrypt.
CREATE TABLE http_auth_users (
    app_id INTEGER NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
    user TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    PRIMARY KEY (app_id, user)
);
