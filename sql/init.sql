-- The extension installs, reports its version, and reserves the vlake.* GUC prefix.
CREATE EXTENSION vlake;
SELECT vlake.version();
SELECT nspname FROM pg_namespace WHERE nspname = 'vlake';
-- an unknown vlake.* setting is refused because the prefix is reserved
SET vlake.no_such_setting = 1;
