//! The DynamoDB tables, their attributes and indexes.

/// A table the backend uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Table {
    /// One row per open WebSocket connection.
    Connections,
    /// One row per user, listing the user's open connections.
    Profiles,
}

impl Table {
    /// Every table, in a fixed order.
    pub const ALL: [Table; 2] = [Table::Connections, Table::Profiles];

    /// The name used in logical ids and stack files (`Connections`, `Profiles`).
    pub fn name(self) -> &'static str {
        match self {
            Table::Connections => "Connections",
            Table::Profiles => "Profiles",
        }
    }

    /// The environment variable that carries this table's name.
    pub fn env_var(self) -> &'static str {
        match self {
            Table::Connections => super::env::CONNECTIONS_TABLE,
            Table::Profiles => super::env::PROFILES_TABLE,
        }
    }

    /// The partition key attribute (a string).
    pub fn partition_key(self) -> &'static str {
        match self {
            Table::Connections => connections::CONNECTION_ID,
            Table::Profiles => profiles::USER_ID,
        }
    }

    /// Global secondary indexes: (index name, partition key attribute), all keys strings,
    /// all projecting every attribute.
    pub fn indexes(self) -> &'static [(&'static str, &'static str)] {
        match self {
            Table::Connections => &[
                (connections::BY_TEAM_INDEX, connections::TEAM_ID),
                (connections::BY_USER_INDEX, connections::USER_ID),
            ],
            Table::Profiles => &[],
        }
    }

    /// The attribute DynamoDB's time to live reads (epoch seconds), if any.
    pub fn ttl_attribute(self) -> Option<&'static str> {
        match self {
            Table::Connections => Some(connections::EXPIRES_AT),
            Table::Profiles => None,
        }
    }
}

/// The Connections table.
pub mod connections {
    /// Partition key: the API Gateway connection id.
    pub const CONNECTION_ID: &str = "connectionId";
    /// The connected user's id.
    pub const USER_ID: &str = "userId";
    /// The connected user's team id (absent when the user has none).
    pub const TEAM_ID: &str = "teamId";
    /// When the connection was opened (epoch milliseconds).
    pub const CONNECTED_AT: &str = "connectedAt";
    /// Time to live (epoch seconds): API Gateway closes a connection after two hours.
    pub const EXPIRES_AT: &str = "expiresAt";
    /// Index on [`TEAM_ID`]: a team's connections.
    pub const BY_TEAM_INDEX: &str = "ByTeam";
    /// Index on [`USER_ID`]: a user's connections.
    pub const BY_USER_INDEX: &str = "ByUser";
    /// How long a connection row lives: API Gateway's maximum connection duration.
    pub const TTL_SECONDS: u64 = 2 * 60 * 60;
}

/// The Profiles table.
pub mod profiles {
    /// Partition key: the user id.
    pub const USER_ID: &str = "userId";
    /// String set of the user's open connection ids.
    pub const CONNECTIONS: &str = "connections";
}
