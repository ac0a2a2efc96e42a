#include "sqlite_tuning.h"
#include <sqlite3.h>

int mlpipe_sqlite_skip_checkpoint_on_close(void *db) {
    int enabled = 0;
    return sqlite3_db_config((sqlite3 *)db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, &enabled);
}
