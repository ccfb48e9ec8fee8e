//! The casbin adapter over a snapshot of the store's policy collections.

use async_trait::async_trait;
use basalt_core::policy::{Policy, RoleLink};
use casbin::{Adapter, Filter, Model, Result};

/// Loads policies and role assignments read from the store into a casbin model. The
/// services own persistence (they write the records durably, then reload the engine),
/// so the write half of the adapter only keeps its snapshot in step.
#[derive(Default)]
pub struct StoreAdapter {
    p: Vec<Vec<String>>,
    g: Vec<Vec<String>>,
}

impl StoreAdapter {
    pub fn new(policies: &[Policy], links: &[RoleLink]) -> StoreAdapter {
        StoreAdapter {
            p: policies
                .iter()
                .map(|p| {
                    vec![
                        p.role.clone(),
                        p.collection_id.clone(),
                        p.action.as_str().to_owned(),
                        p.condition.clone(),
                    ]
                })
                .collect(),
            g: links
                .iter()
                .map(|l| vec![l.subject.clone(), l.role.clone()])
                .collect(),
        }
    }

    fn rows(&mut self, sec: &str) -> &mut Vec<Vec<String>> {
        if sec == "g" {
            &mut self.g
        } else {
            &mut self.p
        }
    }
}

fn insert(m: &mut dyn Model, sec: &str, rows: &[Vec<String>]) {
    if let Some(ast) = m.get_mut_model().get_mut(sec).and_then(|t| t.get_mut(sec)) {
        for row in rows {
            ast.get_mut_policy().insert(row.clone());
        }
    }
}

#[async_trait]
impl Adapter for StoreAdapter {
    async fn load_policy(&mut self, m: &mut dyn Model) -> Result<()> {
        insert(m, "p", &self.p);
        insert(m, "g", &self.g);
        Ok(())
    }

    async fn load_filtered_policy<'a>(&mut self, m: &mut dyn Model, _f: Filter<'a>) -> Result<()> {
        self.load_policy(m).await
    }

    async fn save_policy(&mut self, _m: &mut dyn Model) -> Result<()> {
        Ok(())
    }

    async fn clear_policy(&mut self) -> Result<()> {
        self.p.clear();
        self.g.clear();
        Ok(())
    }

    fn is_filtered(&self) -> bool {
        false
    }

    async fn add_policy(&mut self, sec: &str, _ptype: &str, rule: Vec<String>) -> Result<bool> {
        self.rows(sec).push(rule);
        Ok(true)
    }

    async fn add_policies(
        &mut self,
        sec: &str,
        _ptype: &str,
        rules: Vec<Vec<String>>,
    ) -> Result<bool> {
        self.rows(sec).extend(rules);
        Ok(true)
    }

    async fn remove_policy(&mut self, sec: &str, _ptype: &str, rule: Vec<String>) -> Result<bool> {
        let rows = self.rows(sec);
        let before = rows.len();
        rows.retain(|r| *r != rule);
        Ok(rows.len() != before)
    }

    async fn remove_policies(
        &mut self,
        sec: &str,
        _ptype: &str,
        rules: Vec<Vec<String>>,
    ) -> Result<bool> {
        let rows = self.rows(sec);
        let before = rows.len();
        rows.retain(|r| !rules.contains(r));
        Ok(rows.len() != before)
    }

    async fn remove_filtered_policy(
        &mut self,
        sec: &str,
        _ptype: &str,
        field_index: usize,
        field_values: Vec<String>,
    ) -> Result<bool> {
        let rows = self.rows(sec);
        let before = rows.len();
        rows.retain(|r| {
            !field_values
                .iter()
                .enumerate()
                .all(|(i, v)| v.is_empty() || r.get(field_index + i) == Some(v))
        });
        Ok(rows.len() != before)
    }
}
