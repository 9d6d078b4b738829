//! Where data lives: the data directory and the database.

use std::path::PathBuf;

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use super::Problems;

/// The database settings as read.
#[derive(Clone, Debug, Deserialize)]
#[serde(default)]
pub struct Raw {
    /// `SHIFTING_DATA_DIR`: SQLite databases and generated secrets.
    pub data_dir: PathBuf,
    /// `SHIFTING_DATABASE_URL`: `sqlite://…` or `postgres://…`; default: SQLite in the data dir.
    pub database_url: Option<SecretString>,
    /// `SHIFTING_DATABASE_MAX_CONNECTIONS`: connection pool size.
    pub database_max_connections: u32,
}

impl Default for Raw {
    fn default() -> Self {
        Self {
            data_dir: PathBuf::from("data"),
            database_url: None,
            database_max_connections: 10,
        }
    }
}

/// The database's validated settings.
#[derive(Clone, Debug)]
pub struct DatabaseSettings {
    /// Data directory: SQLite databases and generated secrets.
    pub data_dir: PathBuf,
    /// Database URL (may hold a password).
    pub url: SecretString,
    /// Connection pool size.
    pub max_connections: u32,
}

impl DatabaseSettings {
    /// Whether the configured database is SQLite.
    #[must_use]
    pub fn uses_sqlite(&self) -> bool {
        self.url.expose_secret().starts_with("sqlite:")
    }
}

impl Raw {
    pub(super) fn validate(self, problems: &mut Problems) -> DatabaseSettings {
        let url = match self.database_url {
            Some(url) => {
                let s = url.expose_secret();
                if !(s.starts_with("sqlite:")
                    || s.starts_with("postgres://")
                    || s.starts_with("postgresql://"))
                {
                    problems
                        .push("database_url must start with sqlite:, postgres:// or postgresql://");
                }
                url
            }
            None => SecretString::from(format!(
                "sqlite://{}?mode=rwc",
                self.data_dir.join("shifting.db").display()
            )),
        };
        problems.range(
            "database_max_connections",
            self.database_max_connections,
            1..=1000,
        );
        DatabaseSettings {
            data_dir: self.data_dir,
            url,
            max_connections: self.database_max_connections,
        }
    }
}
