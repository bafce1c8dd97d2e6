//! The names a function's grants put in its environment (rule:
//! [`sockstack_contract::naming`]): `TABLE_<NAME>` for a table grant,
//! `PARAM_<NAME>` for an SSM parameter, `SECRET_<NAME>` for a secret (its
//! name, never its value). Read them once at start-up: a missing one stops the
//! function naming the variable, which usually means the grant is missing in
//! the stack file.

use crate::settings::{self, SettingsError, Source};
use sockstack_contract::naming;

/// The name of the stack file's table `table` (`tables: {T: …}` grant), from `TABLE_<T>`.
pub fn table(source: &dyn Source, table: &str) -> Result<String, SettingsError> {
    settings::required(source, &naming::table_env(table))
}

/// The name of the SSM parameter the stack file calls `name` (`parameters: [P]`), from `PARAM_<P>`.
pub fn parameter(source: &dyn Source, name: &str) -> Result<String, SettingsError> {
    settings::required(source, &naming::parameter_env(name))
}

/// The name of the Secrets Manager secret `name` (`secrets: [S]`), from `SECRET_<S>`.
pub fn secret(source: &dyn Source, name: &str) -> Result<String, SettingsError> {
    settings::required(source, &naming::secret_env(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_come_from_the_contract_variables() {
        let env = |name: &str| match name {
            "TABLE_CHAT_ROOMS" => Some("stack-ChatRooms-1".to_string()),
            "PARAM_APP_DEV_KEY" => Some("/app/dev/key".to_string()),
            "SECRET_APP_HOOK" => Some("app/hook".to_string()),
            _ => None,
        };
        assert_eq!(table(&env, "chatRooms").unwrap(), "stack-ChatRooms-1");
        assert_eq!(parameter(&env, "/app/dev/key").unwrap(), "/app/dev/key");
        assert_eq!(secret(&env, "app/hook").unwrap(), "app/hook");
        let err = table(&env, "messages").unwrap_err();
        assert_eq!(err, SettingsError::Missing("TABLE_MESSAGES".into()));
    }
}
