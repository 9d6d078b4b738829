//! The sandbox's persistent state: accounts with balances, grants, access tokens, incoming
//! payments, quotes and outgoing payments, in their own database (by default a SQLite file in
//! the data directory), so a restart loses no balances or payments.

use std::time::Duration;

use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DatabaseTransaction, DbErr,
    EntityTrait, Schema, Set, SqliteTransactionMode, TransactionOptions, TransactionTrait,
};

use crate::config::SeedAccount;

/// Accounts: one per wallet address, with its balance.
pub mod account {
    use sea_orm::entity::prelude::*;

    /// An account.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "sandbox_accounts")]
    pub struct Model {
        /// Last path segment of the wallet address.
        #[sea_orm(primary_key, auto_increment = false)]
        pub name: String,
        /// `publicName`.
        pub public_name: String,
        /// Asset code.
        pub asset_code: String,
        /// Asset scale.
        pub asset_scale: i32,
        /// Balance in minor units.
        pub balance: i64,
        /// Opened.
        pub created_at: DateTimeUtc,
        /// The password its owner signs in to the wallet with (play money: listed on
        /// `{base}/accounts`), asked before proving ownership (`subject` grants).
        pub password: String,
    }

    /// No relations are navigated.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// GNAP grants.
pub mod grant {
    use sea_orm::entity::prelude::*;

    /// A grant request and where it stands.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "sandbox_grants")]
    pub struct Model {
        /// Id (the last segment of the continue URI).
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        /// The client's wallet address.
        pub client: String,
        /// The client's `publicName` (shown on the consent page).
        pub client_name: String,
        /// The granted access items (JSON array).
        pub access: Json,
        /// `pending`, `approved`, `rejected`, `finalized` or `revoked`.
        pub state: String,
        /// SHA-256 (hex) of the continuation token.
        #[sea_orm(unique)]
        pub continue_token_hash: String,
        /// `continue.wait` in seconds, for interactive grants.
        pub wait_secs: i64,
        /// Where to send the browser after the interaction.
        pub finish_uri: Option<String>,
        /// The client's `interact.finish.nonce`.
        pub client_nonce: Option<String>,
        /// Interaction id (in the interaction URLs).
        #[sea_orm(unique)]
        pub interact_id: Option<Uuid>,
        /// Our finish nonce (`interact.finish` in the response).
        pub interact_nonce: Option<String>,
        /// The reference given on approval.
        pub interact_ref: Option<String>,
        /// SHA-256 (hex) of the consent session cookie.
        pub session_hash: Option<String>,
        /// Requested.
        pub created_at: DateTimeUtc,
        /// When the consent interaction closes.
        pub interaction_expires_at: Option<DateTimeUtc>,
        /// The wallet address a `subject` grant proves ownership of.
        pub subject: Option<String>,
        /// SHA-256 (hex) of the consent session whose browser signed in as the subject's owner.
        pub signed_in_hash: Option<String>,
        /// Wrong passwords given on this interaction.
        pub sign_in_failures: i32,
    }

    /// No relations are navigated.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// Access tokens issued for grants.
pub mod access_token {
    use sea_orm::entity::prelude::*;

    /// An access token.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "sandbox_access_tokens")]
    pub struct Model {
        /// Id (the last segment of the manage URL).
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        /// The grant it belongs to.
        pub grant_id: Uuid,
        /// SHA-256 (hex) of the token value.
        #[sea_orm(unique)]
        pub value_hash: String,
        /// Issued.
        pub created_at: DateTimeUtc,
        /// Expires (rotation still works after this, as in Rafiki).
        pub expires_at: DateTimeUtc,
        /// Rotated or revoked.
        pub revoked_at: Option<DateTimeUtc>,
    }

    /// No relations are navigated.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// Incoming payments.
pub mod incoming_payment {
    use sea_orm::entity::prelude::*;

    /// An incoming payment.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "sandbox_incoming_payments")]
    pub struct Model {
        /// Id.
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        /// Receiving account name.
        pub account: String,
        /// The client that created it.
        pub client: String,
        /// Expected amount, if any.
        pub incoming_value: Option<i64>,
        /// Received so far.
        pub received_value: i64,
        /// Asset code (the account's).
        pub asset_code: String,
        /// Asset scale (the account's).
        pub asset_scale: i32,
        /// Completed (full amount received or completed by the client).
        pub completed: bool,
        /// Stops accepting money.
        pub expires_at: DateTimeUtc,
        /// Client metadata.
        pub metadata: Option<Json>,
        /// Created.
        pub created_at: DateTimeUtc,
    }

    /// No relations are navigated.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// Quotes.
pub mod quote {
    use sea_orm::entity::prelude::*;

    /// A quote.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "sandbox_quotes")]
    pub struct Model {
        /// Id (also the id of the outgoing payment made from it).
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        /// Paying account name.
        pub account: String,
        /// The client that created it.
        pub client: String,
        /// The incoming payment URL.
        pub receiver: String,
        /// Debit in the payer's asset (fees included).
        pub debit_value: i64,
        /// Payer's asset code.
        pub debit_asset_code: String,
        /// Payer's asset scale.
        pub debit_asset_scale: i32,
        /// Delivered in the receiver's asset.
        pub receive_value: i64,
        /// Receiver's asset code.
        pub receive_asset_code: String,
        /// Receiver's asset scale.
        pub receive_asset_scale: i32,
        /// Stops being payable.
        pub expires_at: DateTimeUtc,
        /// Created.
        pub created_at: DateTimeUtc,
    }

    /// No relations are navigated.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// Outgoing payments.
pub mod outgoing_payment {
    use sea_orm::entity::prelude::*;

    /// An outgoing payment.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "sandbox_outgoing_payments")]
    pub struct Model {
        /// Id, equal to its quote's id (so a quote pays at most once, as in Rafiki).
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        /// Paying account name.
        pub account: String,
        /// The client that created it.
        pub client: String,
        /// The grant that allowed it.
        pub grant_id: Uuid,
        /// The incoming payment URL.
        pub receiver: String,
        /// Debit in the payer's asset.
        pub debit_value: i64,
        /// Payer's asset code.
        pub debit_asset_code: String,
        /// Payer's asset scale.
        pub debit_asset_scale: i32,
        /// Delivered in the receiver's asset.
        pub receive_value: i64,
        /// Receiver's asset code.
        pub receive_asset_code: String,
        /// Receiver's asset scale.
        pub receive_asset_scale: i32,
        /// Sent so far (payer's asset).
        pub sent_value: i64,
        /// `funding`, `completed` or `failed`.
        pub state: String,
        /// Why it failed.
        pub failure: Option<String>,
        /// Client metadata.
        pub metadata: Option<Json>,
        /// Created.
        pub created_at: DateTimeUtc,
    }

    /// No relations are navigated.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// Opens the database, creates the tables that are missing and the seed accounts that do not
/// exist yet (existing balances are kept).
///
/// # Errors
/// When the database cannot be reached or written.
pub async fn open(
    url: &str,
    seed: &[SeedAccount],
    now: chrono::DateTime<chrono::Utc>,
) -> Result<DatabaseConnection, DbErr> {
    let mut options = ConnectOptions::new(url.to_owned());
    // One connection: every money movement is serialised, and SQLite never answers "busy".
    options
        .max_connections(1)
        .min_connections(1)
        .connect_timeout(Duration::from_secs(10))
        .acquire_timeout(Duration::from_secs(30))
        .sqlx_logging(false)
        .map_sqlx_sqlite_opts(|o| {
            o.journal_mode(sea_orm::sqlx::sqlite::SqliteJournalMode::Wal)
                .synchronous(sea_orm::sqlx::sqlite::SqliteSynchronous::Normal)
                .busy_timeout(Duration::from_secs(5))
        });
    let db = Database::connect(options).await?;
    create_tables(&db).await?;
    for account in seed {
        let row = account::ActiveModel {
            name: Set(account.name.clone()),
            public_name: Set(account.public_name.clone()),
            asset_code: Set(account.asset_code.clone()),
            asset_scale: Set(i32::from(account.asset_scale)),
            balance: Set(i64::try_from(account.balance).unwrap_or(i64::MAX)),
            created_at: Set(now),
            password: Set(new_password()),
        };
        account::Entity::insert(row)
            .on_conflict_do_nothing()
            .exec(&db)
            .await?;
    }
    Ok(db)
}

/// A transaction that will write. On SQLite it takes the write lock at `BEGIN IMMEDIATE`, so
/// another process on the same file waits (busy timeout) instead of failing mid-transaction.
///
/// # Errors
/// When the database fails.
pub async fn begin_write(db: &DatabaseConnection) -> Result<DatabaseTransaction, DbErr> {
    db.begin_with_options(TransactionOptions {
        sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
        ..TransactionOptions::default()
    })
    .await
}

async fn create_tables(db: &DatabaseConnection) -> Result<(), DbErr> {
    let schema = Schema::new(db.get_database_backend());
    let mut tables = vec![
        schema.create_table_from_entity(account::Entity),
        schema.create_table_from_entity(grant::Entity),
        schema.create_table_from_entity(access_token::Entity),
        schema.create_table_from_entity(incoming_payment::Entity),
        schema.create_table_from_entity(quote::Entity),
        schema.create_table_from_entity(outgoing_payment::Entity),
    ];
    for table in &mut tables {
        db.execute(table.if_not_exists()).await?;
    }
    add_missing_columns(db).await
}

/// Columns added after a sandbox database may have been created: added to an older file, so a
/// restart keeps its balances.
const ADDED_COLUMNS: [(&str, &str, &str); 4] = [
    ("sandbox_accounts", "password", "TEXT NOT NULL DEFAULT ''"),
    ("sandbox_grants", "subject", "TEXT"),
    ("sandbox_grants", "signed_in_hash", "TEXT"),
    (
        "sandbox_grants",
        "sign_in_failures",
        "INTEGER NOT NULL DEFAULT 0",
    ),
];

async fn add_missing_columns(db: &DatabaseConnection) -> Result<(), DbErr> {
    use sea_orm::{ColumnTrait, QueryFilter, Statement};
    let backend = db.get_database_backend();
    for (table, column, definition) in ADDED_COLUMNS {
        let present = db
            .query_one_raw(Statement::from_sql_and_values(
                backend,
                "SELECT COUNT(*) AS n FROM pragma_table_info(?) WHERE name = ?",
                [table.into(), column.into()],
            ))
            .await?
            .map(|row| row.try_get::<i64>("", "n"))
            .transpose()?
            .unwrap_or(0);
        if present == 0 {
            db.execute_unprepared(&format!(
                "ALTER TABLE {table} ADD COLUMN {column} {definition}"
            ))
            .await?;
        }
    }
    for account in account::Entity::find()
        .filter(account::Column::Password.eq(""))
        .all(db)
        .await?
    {
        account::Entity::update_many()
            .col_expr(
                account::Column::Password,
                sea_orm::sea_query::Expr::value(new_password()),
            )
            .filter(account::Column::Name.eq(account.name))
            .exec(db)
            .await?;
    }
    Ok(())
}

/// A sandbox account's password: ten random lower-case hex digits (play money, listed openly).
fn new_password() -> String {
    crate::auth::random_hex(5).to_ascii_lowercase()
}

#[cfg(test)]
mod tests {
    use sea_orm::{ConnectionTrait, EntityTrait};

    use super::*;

    /// A sandbox database written before ownership proofs (no passwords, no subject columns)
    /// opens with the columns added and every account given a password; balances are kept.
    #[tokio::test]
    async fn an_older_sandbox_database_gains_the_new_columns_and_keeps_its_balances() {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!(
            "sqlite://{}?mode=rwc",
            dir.path().join("sandbox.db").display()
        );
        let seed = SeedAccount::demo();
        let now = chrono::Utc::now();
        let db = open(&url, &seed, now).await.expect("first open");
        db.execute_unprepared("UPDATE sandbox_accounts SET balance = 42 WHERE name = 'alice'")
            .await
            .expect("spend");
        for (table, column, _) in ADDED_COLUMNS {
            db.execute_unprepared(&format!("ALTER TABLE {table} DROP COLUMN {column}"))
                .await
                .expect("drop a newer column");
        }
        db.close().await.expect("close");

        let db = open(&url, &seed, now).await.expect("reopen");
        let accounts = account::Entity::find().all(&db).await.expect("accounts");
        assert_eq!(accounts.len(), seed.len());
        for account in &accounts {
            assert_eq!(account.password.len(), 10, "{}", account.name);
        }
        let alice = accounts.iter().find(|a| a.name == "alice").expect("alice");
        assert_eq!(alice.balance, 42, "a restart keeps balances");
        grant::Entity::find()
            .all(&db)
            .await
            .expect("grants read with their new columns");
    }
}
