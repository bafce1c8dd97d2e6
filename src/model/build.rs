//! From a validated stack file to the model.

use super::{
    Authorizer, CONNECT, ConnectRoute, Function, Model, Route, Stage, TableModel, TableSource,
    WebSocketApi, profile_for,
};
use crate::config::stack::{RouteAccess, StackFile, TableConfig};
use crate::sources::{HandlerSources, SourceError};
use sockstack_contract::{AccessProfile, Table};
use std::collections::BTreeMap;

/// The region of a Cognito user pool id (`eu-west-1_AbC` → `eu-west-1`), if it is one.
pub fn cognito_region(pool_id: &str) -> Option<&str> {
    let (region, id) = pool_id.split_once('_')?;
    let parts: Vec<&str> = region.split('-').collect();
    let region_ok = parts.len() >= 3
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_alphanumeric()))
        && parts.last()?.chars().all(|c| c.is_ascii_digit());
    let id_ok = !id.is_empty() && id.chars().all(|c| c.is_ascii_alphanumeric());
    (region_ok && id_ok).then_some(region)
}

impl Model {
    /// Builds the model of a stack file that passed [`crate::config::validate::validate`].
    pub fn from_stack(file: &StackFile, handlers: &HandlerSources) -> Result<Model, SourceError> {
        let authorizer = file.authorizer.as_ref().map(|a| {
            let (jwks_url, issuer) = match (&a.cognito, &a.jwks_url) {
                (Some(c), _) => {
                    let region = cognito_region(&c.user_pool_id).unwrap_or("us-east-1");
                    let issuer = format!(
                        "https://cognito-idp.{region}.amazonaws.com/{}",
                        c.user_pool_id
                    );
                    (format!("{issuer}/.well-known/jwks.json"), issuer)
                }
                (None, url) => (
                    url.clone().unwrap_or_default(),
                    a.issuer.clone().unwrap_or_default(),
                ),
            };
            Authorizer {
                handler: a.handler.clone(),
                jwks_url,
                issuer,
                audience: a.audience.clone(),
                user_id_claim: a.claims.user_id.clone(),
                email_claim: a.claims.email.clone(),
                team_id_claim: a.claims.team_id.clone(),
                identity_source: a.identity_source.clone(),
            }
        });

        let mut connect = None;
        let mut routes = Vec::new();
        let mut profiles: BTreeMap<String, AccessProfile> = BTreeMap::new();
        for r in &file.routes {
            let declared = r.access.map(RouteAccess::profile);
            profiles.insert(r.handler.clone(), profile_for(&r.handler, declared));
            let route = Route {
                key: r.key.clone(),
                handler: r.handler.clone(),
                two_way: r.two_way,
            };
            if r.key == CONNECT {
                connect = Some(ConnectRoute {
                    route,
                    authorizer: if r.authorizer {
                        authorizer.clone()
                    } else {
                        None
                    },
                    public: r.public,
                });
            } else {
                routes.push(route);
            }
        }
        if let Some(a) = &authorizer {
            profiles.insert(a.handler.clone(), AccessProfile::Authorizer);
        }

        let l = &file.lambda;
        let functions = profiles
            .into_iter()
            .map(|(handler, profile)| {
                Ok(Function {
                    bundle_key: handlers.bundle_key(&handler)?,
                    handler,
                    profile,
                    architecture: l.architecture,
                    memory: l.memory,
                    timeout: l.timeout,
                    log_retention_days: l.log_retention_days,
                    notify_concurrency: l.notify_concurrency,
                })
            })
            .collect::<Result<Vec<_>, SourceError>>()?;

        let table = |table: Table, config: &TableConfig| TableModel {
            table,
            source: match &config.existing {
                Some(name) => TableSource::Existing(name.clone()),
                None => TableSource::Created,
            },
            retain: file.data_protection.retain_tables,
            key: file.data_protection.table_key,
        };

        Ok(Model {
            stack_name: file.stack.clone(),
            description: file.description.clone(),
            api: WebSocketApi {
                name: file.stack.clone(),
                route_selection_expression: file.route_selection_expression.clone(),
                connect,
                routes,
            },
            stage: Stage {
                name: file.stage.name.clone(),
                access_logs: file.stage.access_logs,
                burst_limit: file.stage.throttling.burst_limit,
                rate_limit: file.stage.throttling.rate_limit,
            },
            functions,
            tables: vec![
                table(Table::Connections, &file.tables.connections),
                table(Table::Profiles, &file.tables.profiles),
            ],
            retain_logs: file.data_protection.retain_logs,
            account_role: file.api_gateway_account_role,
            tags: file.tags.clone(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::cognito_region;

    #[test]
    fn cognito_pool_regions() {
        assert_eq!(cognito_region("eu-west-1_AbCdEf123"), Some("eu-west-1"));
        assert_eq!(cognito_region("us-gov-west-1_X1"), Some("us-gov-west-1"));
        assert_eq!(cognito_region("eu-west-1"), None);
        assert_eq!(cognito_region("nope_abc"), None);
        assert_eq!(cognito_region("eu-west-1_"), None);
    }
}
