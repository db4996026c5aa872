-- per-app access for users whose role is 'user' (admins can do everything)
CREATE TABLE grants (
    app_id INTEGER NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
    user TEXT NOT NULL REFERENCES users(name) ON DELETE CASCADE,
    level TEXT NOT NULL CHECK (level IN ('deploy', 'manage')),
    PRIMARY KEY (app_id, user)
);
