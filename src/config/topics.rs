//! `[[topic]]`: help topics, what a customer picks a request's subject area
//! from on the help page and in the widget. A topic sends its requests to a
//! department (and category) and asks the `[[field]]`s it names. And
//! `[[organization]]`: customer companies declared in the file (the UI and
//! the API make others).

use super::{Config, FieldConfig};

/// A help topic.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TopicConfig {
    /// What customers see.
    pub name: String,
    /// Where its requests go; empty: `desk.default_department`.
    #[serde(default)]
    pub department: String,
    /// Their category; empty: `desk.default_category`.
    #[serde(default)]
    pub category: String,
    /// The custom fields (`[[field]]` names) the form asks.
    #[serde(default)]
    pub fields: Vec<String>,
}

impl TopicConfig {
    /// Its commented example in `config.example.toml`.
    pub const EXAMPLE: &'static str = "\
# Help topics (one [[topic]] each): with any, a request on the help page or
# from the widget names its topic (the widget's data-topic chooses one); the
# topic sends it to a department and category and asks the custom fields it
# lists (names of [[field]]s that apply to that department).
# [[topic]]
# name = \"Order problem\"
# department = \"Sales\"
# category = \"Billing\"
# fields = [\"order_number\"]
";
}

/// An organization declared in the config: made at start (and on reload)
/// when the desk has none of its name, its domains and sharing set.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrganizationConfig {
    pub name: String,
    /// Address domains whose people join it.
    #[serde(default)]
    pub domains: Vec<String>,
    /// Members see each other's tickets on the help page.
    #[serde(default)]
    pub shared: bool,
}

impl OrganizationConfig {
    /// Its commented example in `config.example.toml`.
    pub const EXAMPLE: &'static str = "\
# Organizations (one [[organization]] each): customer companies. People whose
# address is at one of the domains join it (subdomains too); with shared,
# its members see each other's tickets on the help page. Organizations are
# also made and edited under People; one named here gets these domains and
# this sharing at every start and reload.
# [[organization]]
# name = \"Acme Ltd\"
# domains = [\"acme.example\"]
# shared = true
";
}

impl Config {
    /// `[[organization]]`: names and domains well-formed and unique.
    pub(super) fn check_organizations(&self) -> Result<(), (&'static str, &'static str, String)> {
        let mut seen_domains: Vec<String> = Vec::new();
        for (i, o) in self.organization.iter().enumerate() {
            let name =
                crate::domain::orgs::check_name(&o.name).map_err(|m| ("organization", "name", format!("organization {}: {m}", i + 1)))?;
            if self.organization.iter().take(i).any(|x| x.name.trim().eq_ignore_ascii_case(&name)) {
                return Err(("organization", "name", format!("{name:?} is named twice")));
            }
            for d in &o.domains {
                let d = crate::domain::orgs::normalize_domain(d)
                    .ok_or_else(|| ("organization", "domains", format!("{name:?}: {d:?} is not a domain like example.com")))?;
                if seen_domains.contains(&d) {
                    return Err(("organization", "domains", format!("{name:?}: {d} is given to two organizations")));
                }
                seen_domains.push(d);
            }
        }
        Ok(())
    }

    /// The topic of that name (any case).
    pub fn topic(&self, name: &str) -> Option<&TopicConfig> {
        self.topic.iter().find(|t| t.name.eq_ignore_ascii_case(name.trim()))
    }

    /// A topic's department (the default one when it names none).
    pub fn topic_department<'a>(&'a self, t: &'a TopicConfig) -> &'a str {
        if t.department.is_empty() { &self.desk.default_department } else { &t.department }
    }

    /// The fields a topic asks, in its order.
    pub fn topic_fields<'a>(&'a self, t: &'a TopicConfig) -> Vec<&'a FieldConfig> {
        t.fields.iter().filter_map(|n| self.field(n)).collect()
    }

    /// `[[topic]]`: names unique, departments, categories and fields known
    /// (each field one of its department's).
    pub(super) fn check_topics(&self) -> Result<(), (&'static str, &'static str, String)> {
        for (i, t) in self.topic.iter().enumerate() {
            let n = i + 1;
            let name = t.name.trim();
            if name.is_empty() || name.chars().count() > 80 {
                return Err(("topic", "name", format!("topic {n}: {:?} must be 1-80 characters", t.name)));
            }
            if self.topic.iter().take(i).any(|o| o.name.trim().eq_ignore_ascii_case(name)) {
                return Err(("topic", "name", format!("topic {n}: {name:?} is named twice")));
            }
            if !t.department.is_empty() && !self.desk.departments.contains(&t.department) {
                return Err(("topic", "department", format!("topic {name:?}: {:?} is not one of desk.departments", t.department)));
            }
            if !t.category.is_empty() && !self.desk.categories.contains(&t.category) {
                return Err(("topic", "category", format!("topic {name:?}: {:?} is not one of desk.categories", t.category)));
            }
            for f in &t.fields {
                match self.field(f) {
                    None => return Err(("topic", "fields", format!("topic {name:?}: {f:?} is not a [[field]]"))),
                    Some(fc) if !fc.applies_to(self.topic_department(t)) => {
                        return Err((
                            "topic",
                            "fields",
                            format!("topic {name:?}: field {f:?} does not apply to department {:?}", self.topic_department(t)),
                        ));
                    }
                    Some(_) => {}
                }
            }
        }
        Ok(())
    }
}
