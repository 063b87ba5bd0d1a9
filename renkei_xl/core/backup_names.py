"""How a backup is named, in one place: safety makes the backups (renkei_xl.safety.backup),
core.filenames makes names short enough that Excel opens those backups too.

A module of its own with nothing to import, so that safety, on every command's path, takes
the two words without the name rules' imports (hashlib, unicodedata)."""

# {stem}_バックアップ beside the file, holding {stem}_YYYYMMDD-HHMMSS{suffix}, then _001, _002…
BACKUP_FOLDER_SUFFIX = "_バックアップ"
LONGEST_STAMP = "_YYYYMMDD-HHMMSS_001"
