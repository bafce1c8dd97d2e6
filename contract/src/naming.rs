//! How names in a stack file become environment-variable names.
//!
//! One rule for every grant: `PREFIX_` + [`env_suffix`] of the name. The stack
//! file's table `chatRooms` is `TABLE_CHAT_ROOMS`, the SSM parameter
//! `/app/dev/api-key` is `PARAM_APP_DEV_API_KEY`.

/// Prefix of a variable holding a table's name.
pub const TABLE_PREFIX: &str = "TABLE_";
/// Prefix of a variable holding an SSM parameter's name.
pub const PARAMETER_PREFIX: &str = "PARAM_";
/// Prefix of a variable holding a Secrets Manager secret's name (never its value).
pub const SECRET_PREFIX: &str = "SECRET_";

/// `name` as the upper-snake suffix of a variable: camelCase words split, every run
/// of characters other than ASCII letters and digits becomes one `_`, upper-cased,
/// no leading or trailing `_`.
pub fn env_suffix(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 4);
    let mut prev_lower_or_digit = false;
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            if c.is_ascii_uppercase() && prev_lower_or_digit && !out.ends_with('_') {
                out.push('_');
            }
            out.push(c.to_ascii_uppercase());
            prev_lower_or_digit = c.is_ascii_lowercase() || c.is_ascii_digit();
        } else {
            if !out.is_empty() && !out.ends_with('_') {
                out.push('_');
            }
            prev_lower_or_digit = false;
        }
    }
    while out.ends_with('_') {
        out.pop();
    }
    out
}

/// The variable holding the name of the stack file's table `table`.
pub fn table_env(table: &str) -> String {
    format!("{TABLE_PREFIX}{}", env_suffix(table))
}

/// The variable holding the name of the SSM parameter `name`.
pub fn parameter_env(name: &str) -> String {
    format!("{PARAMETER_PREFIX}{}", env_suffix(name))
}

/// The variable holding the name of the Secrets Manager secret `name`.
pub fn secret_env(name: &str) -> String {
    format!("{SECRET_PREFIX}{}", env_suffix(name))
}

/// `chat-app` / `chat_app` / `chatApp` → `ChatApp`: the stem of logical ids.
pub fn pascal_case(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut upper = true;
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            if upper {
                out.push(c.to_ascii_uppercase());
            } else {
                out.push(c);
            }
            upper = false;
        } else {
            upper = true;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn camel_case_and_punctuation_become_upper_snake() {
        assert_eq!(env_suffix("chatRooms"), "CHAT_ROOMS");
        assert_eq!(env_suffix("messages"), "MESSAGES");
        assert_eq!(env_suffix("/chat-app/dev/api-key"), "CHAT_APP_DEV_API_KEY");
        assert_eq!(env_suffix("a--b__c"), "A_B_C");
        assert_eq!(env_suffix("v2Items"), "V2_ITEMS");
        assert_eq!(env_suffix("URLs"), "URLS");
    }

    #[test]
    fn each_grant_kind_has_its_prefix() {
        assert_eq!(table_env("chatRooms"), "TABLE_CHAT_ROOMS");
        assert_eq!(parameter_env("/app/key"), "PARAM_APP_KEY");
        assert_eq!(secret_env("app/webhook"), "SECRET_APP_WEBHOOK");
    }

    #[test]
    fn pascal_case_joins_words() {
        assert_eq!(pascal_case("chat-app"), "ChatApp");
        assert_eq!(pascal_case("chat_rooms"), "ChatRooms");
        assert_eq!(pascal_case("chatRooms"), "ChatRooms");
        assert_eq!(pascal_case("$default"), "Default");
    }
}
