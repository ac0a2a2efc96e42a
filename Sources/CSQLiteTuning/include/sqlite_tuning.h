#ifndef MLPIPE_SQLITE_TUNING_H
#define MLPIPE_SQLITE_TUNING_H

/// Turns off the WAL checkpoint that SQLite runs when the last connection to a file
/// closes (SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE), on the `sqlite3 *` connection `db`.
/// sqlite3_db_config is variadic, which Swift cannot call. Returns an SQLite result code.
int mlpipe_sqlite_skip_checkpoint_on_close(void *db);

#endif
