-- docker-compose.yml's MariaDB: like the native rig, the test user may create databases of its own
-- (MARIADB_USER only gets ALL on MARIADB_DATABASE).
GRANT ALL ON *.* TO 'pump'@'%' WITH GRANT OPTION;
FLUSH PRIVILEGES;
