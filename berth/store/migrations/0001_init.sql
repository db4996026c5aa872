CREATE TABLE apps (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE,
    created_at REAL NOT NULL,
    current_release INTEGER            -- version number of the serving release, or NULL
);

CREATE TABLE app_settings (
    app_id INTEGER NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (app_id, key)
);

-- app_id 0 holds global config vars
CREATE TABLE config (
    app_id INTEGER NOT NULL,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (app_id, key)
);

CREATE TABLE formation (
    app_id INTEGER NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
    process_type TEXT NOT NULL,
    quantity INTEGER NOT NULL CHECK (quantity >= 0),
    PRIMARY KEY (app_id, process_type)
);

CREATE TABLE releases (
    app_id INTEGER NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
    version INTEGER NOT NULL,
    image TEXT,
    git_sha TEXT,
    config_json TEXT NOT NULL,
    processes_json TEXT NOT NULL,      -- {"web": "python app.py", ...}
    formation_json TEXT NOT NULL,      -- {"web": 1, ...}
    app_json TEXT NOT NULL DEFAULT '{}',
    port INTEGER,
    description TEXT NOT NULL,
    status TEXT NOT NULL,              -- pending | succeeded | failed
    created_at REAL NOT NULL,
    PRIMARY KEY (app_id, version)
);

CREATE TABLE users (
    name TEXT PRIMARY KEY,
    role TEXT NOT NULL DEFAULT 'admin',
    created_at REAL NOT NULL
);

CREATE TABLE ssh_keys (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user TEXT NOT NULL REFERENCES users(name) ON DELETE CASCADE,
    fingerprint TEXT NOT NULL UNIQUE,
    public_key TEXT NOT NULL,
    created_at REAL NOT NULL
);

CREATE TABLE tokens (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user TEXT NOT NULL REFERENCES users(name) ON DELETE CASCADE,
    token_hash TEXT NOT NULL UNIQUE,
    created_at REAL NOT NULL
);

CREATE TABLE settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    time REAL NOT NULL,
    actor TEXT NOT NULL,
    app TEXT,
    action TEXT NOT NULL,
    details_json TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX events_app ON events(app, time);
