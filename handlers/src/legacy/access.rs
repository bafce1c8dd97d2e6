//! What each kind of handler may do: the AWS calls it makes, which become the
//! only actions its IAM role grants, and the environment it needs.

use super::env;
use super::tables::{Table, connections};

/// Table actions granted on one table, or on one of its indexes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Grant {
    /// The table.
    pub table: Table,
    /// `Some(index)` grants on `table/index/{index}` instead of the table itself.
    pub index: Option<&'static str>,
    /// IAM actions, e.g. `dynamodb:PutItem`. Each is an API call the handler makes.
    pub actions: &'static [&'static str],
}

/// Everything a handler of one profile needs from the stack.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Access {
    /// Table and index actions.
    pub grants: &'static [Grant],
    /// Whether it posts to `@connections` (`execute-api:ManageConnections`).
    pub manage_connections: bool,
    /// Environment variables the function reads (set by the template).
    pub env: &'static [&'static str],
}

/// The profiles a handler can have. Built-in handlers have a fixed profile
/// ([`AccessProfile::for_handler`]); a new route's handler names one in the stack file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum AccessProfile {
    /// The `$connect` authorizer: verifies tokens, touches no table.
    Authorizer,
    /// `$connect`: records the connection.
    Connect,
    /// `$disconnect`: forgets the connection.
    Disconnect,
    /// A route that only answers the sender through its route response.
    Reply,
    /// A route that pushes messages to a team's connections and cleans up stale ones.
    Broadcast,
}

const AUTHORIZER: Access = Access {
    grants: &[],
    manage_connections: false,
    env: &[
        env::JWKS_URL,
        env::JWT_ISSUER,
        env::JWT_AUDIENCE,
        env::TOKEN_SOURCE,
        env::USER_ID_CLAIM,
        env::EMAIL_CLAIM,
        env::TEAM_ID_CLAIM,
    ],
};

const CONNECT: Access = Access {
    grants: &[
        Grant {
            table: Table::Connections,
            index: None,
            actions: &["dynamodb:PutItem"],
        },
        Grant {
            table: Table::Profiles,
            index: None,
            actions: &["dynamodb:UpdateItem"],
        },
    ],
    manage_connections: false,
    env: &[env::CONNECTIONS_TABLE, env::PROFILES_TABLE],
};

const DISCONNECT: Access = Access {
    grants: &[
        // Disconnect replaces the row with a short-lived tombstone (a PutItem, not a
        // DeleteItem), so a repeated or late `$connect` cannot resurrect the connection.
        Grant {
            table: Table::Connections,
            index: None,
            actions: &["dynamodb:PutItem"],
        },
        Grant {
            table: Table::Profiles,
            index: None,
            actions: &["dynamodb:UpdateItem"],
        },
    ],
    manage_connections: false,
    env: &[env::CONNECTIONS_TABLE, env::PROFILES_TABLE],
};

const REPLY: Access = Access {
    grants: &[],
    manage_connections: false,
    env: &[],
};

const BROADCAST: Access = Access {
    grants: &[
        Grant {
            table: Table::Connections,
            index: Some(connections::BY_TEAM_INDEX),
            actions: &["dynamodb:Query"],
        },
        // A post answered with 410 Gone removes the stale connection from both tables.
        Grant {
            table: Table::Connections,
            index: None,
            actions: &["dynamodb:DeleteItem"],
        },
        Grant {
            table: Table::Profiles,
            index: None,
            actions: &["dynamodb:UpdateItem"],
        },
    ],
    manage_connections: true,
    env: &[
        env::CONNECTIONS_TABLE,
        env::PROFILES_TABLE,
        env::CALLBACK_URL,
        env::NOTIFY_CONCURRENCY,
    ],
};

impl AccessProfile {
    /// Every profile, in a fixed order.
    pub const ALL: [AccessProfile; 5] = [
        AccessProfile::Authorizer,
        AccessProfile::Connect,
        AccessProfile::Disconnect,
        AccessProfile::Reply,
        AccessProfile::Broadcast,
    ];

    /// What a handler of this profile needs.
    pub fn access(self) -> &'static Access {
        match self {
            AccessProfile::Authorizer => &AUTHORIZER,
            AccessProfile::Connect => &CONNECT,
            AccessProfile::Disconnect => &DISCONNECT,
            AccessProfile::Reply => &REPLY,
            AccessProfile::Broadcast => &BROADCAST,
        }
    }

    /// The profile's name in stack files (`broadcast`, `reply`, …).
    pub fn name(self) -> &'static str {
        match self {
            AccessProfile::Authorizer => "authorizer",
            AccessProfile::Connect => "connect",
            AccessProfile::Disconnect => "disconnect",
            AccessProfile::Reply => "reply",
            AccessProfile::Broadcast => "broadcast",
        }
    }

    /// The profile of a handler that ships with sockstack, by binary name.
    pub fn for_handler(handler: &str) -> Option<AccessProfile> {
        match handler {
            handlers::AUTHORIZER => Some(AccessProfile::Authorizer),
            handlers::CONNECT => Some(AccessProfile::Connect),
            handlers::DISCONNECT => Some(AccessProfile::Disconnect),
            handlers::DEFAULT => Some(AccessProfile::Reply),
            handlers::VOTE => Some(AccessProfile::Broadcast),
            _ => None,
        }
    }
}

impl Access {
    /// Every table action this access grants, sorted and without repeats.
    pub fn table_actions(&self) -> Vec<&'static str> {
        let mut actions: Vec<_> = self
            .grants
            .iter()
            .flat_map(|g| g.actions.iter().copied())
            .collect();
        actions.sort_unstable();
        actions.dedup();
        actions
    }

    /// The tables this access touches, sorted and without repeats.
    pub fn tables(&self) -> Vec<Table> {
        let mut tables: Vec<_> = self.grants.iter().map(|g| g.table).collect();
        tables.sort_unstable();
        tables.dedup();
        tables
    }
}

/// The IAM action for posting to (and deleting) connections.
pub const MANAGE_CONNECTIONS: &str = "execute-api:ManageConnections";

/// Binary names of the handlers that ship with sockstack.
pub mod handlers {
    /// The `$connect` authorizer.
    pub const AUTHORIZER: &str = "authorizer";
    /// `$connect`.
    pub const CONNECT: &str = "connect";
    /// `$disconnect`.
    pub const DISCONNECT: &str = "disconnect";
    /// `$default`.
    pub const DEFAULT: &str = "default";
    /// The `vote` route.
    pub const VOTE: &str = "vote";
    /// A command-line tool that pushes messages from outside AWS; not a Lambda function.
    pub const NOTIFY: &str = "notify";
    /// Binaries of the handlers member that are tools, not Lambda functions:
    /// no function, role or bundle is made for them.
    pub const TOOLS: &[&str] = &[NOTIFY];
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_handlers_have_profiles() {
        for name in ["authorizer", "connect", "disconnect", "default", "vote"] {
            assert!(AccessProfile::for_handler(name).is_some(), "{name}");
        }
        assert_eq!(AccessProfile::for_handler("chat"), None);
    }

    #[test]
    fn tables_need_their_env_vars() {
        for profile in AccessProfile::ALL {
            let access = profile.access();
            for table in access.tables() {
                assert!(
                    access.env.contains(&table.env_var()),
                    "{profile:?} {table:?}"
                );
            }
            if access.manage_connections {
                assert!(access.env.contains(&env::CALLBACK_URL), "{profile:?}");
            }
        }
    }
}
