<?php
/*
 * WordPress configuration from the environment berth gives the app:
 *   DATABASE_URL  mysql://USER:PASSWORD@HOST:PORT/NAME   (berth mysql:link DB APP)
 *   WP_SALT       a long random string                  (berth config:set APP WP_SALT=...)
 */
$db = parse_url(getenv('DATABASE_URL') ?: 'mysql://missing@localhost/missing');
define('DB_NAME', ltrim($db['path'] ?? '', '/'));
define('DB_USER', urldecode($db['user'] ?? ''));
define('DB_PASSWORD', urldecode($db['pass'] ?? ''));
define('DB_HOST', ($db['host'] ?? 'localhost') . ':' . ($db['port'] ?? 3306));
define('DB_CHARSET', 'utf8mb4');
define('DB_COLLATE', '');

$salt = getenv('WP_SALT') ?: '';
foreach (['AUTH_KEY', 'SECURE_AUTH_KEY', 'LOGGED_IN_KEY', 'NONCE_KEY', 'AUTH_SALT',
          'SECURE_AUTH_SALT', 'LOGGED_IN_SALT', 'NONCE_SALT'] as $name) {
    define($name, hash('sha256', $name . $salt));
}

$table_prefix = 'wp_';
define('WP_DEBUG', false);
// The container cannot reach its own public URL; run wp-cron.php from a cron job instead.
define('DISABLE_WP_CRON', true);
// Plugins and themes come with the code (git push), not from the dashboard.
define('DISALLOW_FILE_MODS', true);

if (!defined('ABSPATH')) {
    define('ABSPATH', __DIR__ . '/');
}
require_once ABSPATH . 'wp-settings.php';
