-- plugins whose state berth records: installed directory/Python plugins, and the enabled flag
-- of any plugin (built-in add-ons and entry points too). No row = enabled.
CREATE TABLE plugins (
    name TEXT PRIMARY KEY,
    kind TEXT NOT NULL,                -- builtin | entrypoint | python | shell
    source TEXT NOT NULL,              -- module name, entry point, or directory
    enabled INTEGER NOT NULL DEFAULT 1,
    installed_at REAL NOT NULL
);

-- add-on services (postgres, mysql, redis, or a plugin's type)
CREATE TABLE services (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    type TEXT NOT NULL,
    name TEXT NOT NULL,
    image TEXT NOT NULL,
    password TEXT NOT NULL,
    created_at REAL NOT NULL,
    UNIQUE (type, name)
);

-- which app uses which service, under which config var (ALIAS_URL)
CREATE TABLE service_links (
    service_id INTEGER NOT NULL REFERENCES services(id) ON DELETE CASCADE,
    app_id INTEGER NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
    alias TEXT NOT NULL,
    created_at REAL NOT NULL,
    PRIMARY KEY (service_id, app_id)
);
