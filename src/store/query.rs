//! Queue queries over the secondary indexes.
//!
//! A query picks the most selective index for its filters and sort order, walks
//! it in order, and checks the remaining filters on each ticket until one page
//! (plus one, to know whether more follow) is collected. Page 1 of a queue never
//! scans all tickets unless the filters match almost nothing.

use redb::{ReadTransaction, ReadableTable, TableDefinition};

use super::timers::STATUS_SINCE;
use super::{IDX_ASSIGNEE, IDX_DEPARTMENT, IDX_PRIORITY, IDX_REQUESTER, IDX_STATUS, IDX_TEAM, IDX_UPDATED, Result, TICKETS, Write, codec};
use crate::domain::{PersonId, Priority, Status, Ticket};

/// Who a ticket is assigned to, as a filter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AssigneeFilter {
    #[default]
    Any,
    Unassigned,
    Person(u64),
}

/// Queue order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Sort {
    /// Most recently updated first.
    #[default]
    Updated,
    /// Least recently updated first (oldest activity).
    UpdatedAsc,
    /// Newest tickets first.
    Created,
    /// Oldest tickets first.
    CreatedAsc,
    /// Urgent first, then by most recent update.
    Priority,
}

impl Sort {
    pub const ALL: &'static [Sort] = &[Sort::Updated, Sort::UpdatedAsc, Sort::Created, Sort::CreatedAsc, Sort::Priority];
    pub fn key(self) -> &'static str {
        match self {
            Sort::Updated => "updated",
            Sort::UpdatedAsc => "updated_asc",
            Sort::Created => "created",
            Sort::CreatedAsc => "created_asc",
            Sort::Priority => "priority",
        }
    }
    pub fn label(self) -> &'static str {
        match self {
            Sort::Updated => "Recently updated",
            Sort::UpdatedAsc => "Least recently updated",
            Sort::Created => "Newest",
            Sort::CreatedAsc => "Oldest",
            Sort::Priority => "Priority",
        }
    }
    pub fn parse(s: &str) -> Option<Sort> {
        Sort::ALL.iter().copied().find(|x| x.key() == s)
    }
}

/// A queue filter, sort and page.
#[derive(Debug, Clone, Default)]
pub struct TicketQuery {
    /// Empty means any status.
    pub statuses: Vec<Status>,
    pub assignee: AssigneeFilter,
    pub priority: Option<Priority>,
    pub category: Option<String>,
    pub department: Option<String>,
    /// Tickets assigned to this team.
    pub team: Option<String>,
    pub requester: Option<u64>,
    /// Departments the viewer may see; `None` means all.
    pub visible_departments: Option<Vec<String>>,
    pub sort: Sort,
    pub offset: usize,
    pub limit: usize,
}

impl TicketQuery {
    pub fn matches(&self, t: &Ticket) -> bool {
        (self.statuses.is_empty() || self.statuses.contains(&t.status))
            && match self.assignee {
                AssigneeFilter::Any => true,
                AssigneeFilter::Unassigned => t.assignee.is_none(),
                AssigneeFilter::Person(p) => t.assignee == Some(PersonId(p)),
            }
            && self.priority.is_none_or(|p| p == t.priority)
            && self.category.as_deref().is_none_or(|c| c == t.category)
            && self.department.as_deref().is_none_or(|d| d == t.department)
            && self.team.as_deref().is_none_or(|x| t.team.as_deref() == Some(x))
            && self.requester.is_none_or(|r| r == t.requester.0)
            && self.visible_departments.as_ref().is_none_or(|v| v.iter().any(|d| d.eq_ignore_ascii_case(&t.department)))
    }
}

/// (assignee, updated ms, ticket id) of assigned tickets in an active
/// status (schema 15): an agent's open work without reading the closed
/// history assigned to them.
pub(crate) const IDX_ASSIGNED_ACTIVE: TableDefinition<(u64, i64, u64), ()> = TableDefinition::new("idx_assigned_active");

/// A ticket's key in `IDX_ASSIGNED_ACTIVE`, when it has one.
fn assigned_active(t: &Ticket) -> Option<(u64, i64, u64)> {
    t.assignee.filter(|_| t.status.is_active()).map(|a| (a.0, t.updated_at.0, t.id.0))
}

impl Write {
    /// Adds a ticket to (or removes it from) the index of open assigned work.
    pub(super) fn index_assigned(&mut self, t: &Ticket, add: bool) -> Result<()> {
        if let Some(key) = assigned_active(t) {
            let mut idx = self.tx.open_table(IDX_ASSIGNED_ACTIVE)?;
            if add {
                idx.insert(key, ())?;
            } else {
                idx.remove(key)?;
            }
        }
        Ok(())
    }
}

/// Fills the index of open assigned work from every ticket not in Trash
/// (the upgrade to schema 15).
pub(super) fn fill_assigned_active(tx: &redb::WriteTransaction) -> Result<u64> {
    let tickets = tx.open_table(TICKETS)?;
    let trash = tx.open_table(super::workflow::TRASH)?;
    let mut idx = tx.open_table(IDX_ASSIGNED_ACTIVE)?;
    let mut n = 0;
    for row in tickets.iter()? {
        let (k, v) = row?;
        if trash.get(k.value())?.is_some() {
            continue;
        }
        if let Some(key) = assigned_active(&codec::decode_ticket(v.value())?) {
            idx.insert(key, ())?;
            n += 1;
        }
    }
    Ok(n)
}

type Keys<'a> = Box<dyn Iterator<Item = Result<(i64, u64)>> + 'a>;

/// Merges streams each ordered by (updated, id) into one ordered stream.
struct Merge<'a> {
    heads: Vec<(Option<(i64, u64)>, Keys<'a>)>,
    desc: bool,
    failed: bool,
}

impl<'a> Merge<'a> {
    fn new(streams: Vec<Keys<'a>>, desc: bool) -> Result<Merge<'a>> {
        let mut heads = Vec::with_capacity(streams.len());
        for mut s in streams {
            let first = s.next().transpose()?;
            heads.push((first, s));
        }
        Ok(Merge { heads, desc, failed: false })
    }
}

impl Iterator for Merge<'_> {
    type Item = Result<u64>;
    fn next(&mut self) -> Option<Result<u64>> {
        if self.failed {
            return None;
        }
        let desc = self.desc;
        let pick = self
            .heads
            .iter()
            .enumerate()
            .filter_map(|(i, (h, _))| h.map(|k| (i, k)))
            .reduce(|a, b| if (b.1 > a.1) == desc { b } else { a })?;
        let (i, key) = pick;
        let (head, stream) = &mut self.heads[i];
        match stream.next().transpose() {
            Ok(next) => *head = next,
            Err(e) => {
                self.failed = true;
                return Some(Err(e));
            }
        }
        Some(Ok(key.1))
    }
}

fn ordered<'a, I>(it: I, desc: bool) -> Keys<'a>
where
    I: DoubleEndedIterator<Item = Result<(i64, u64)>> + 'a,
{
    if desc { Box::new(it.rev()) } else { Box::new(it) }
}

pub(super) fn run(tx: &ReadTransaction, q: &TicketQuery) -> Result<(Vec<Ticket>, bool)> {
    let tickets = tx.open_table(TICKETS)?;
    let by_updated = tx.open_table(IDX_UPDATED)?;
    let by_status = tx.open_table(IDX_STATUS)?;
    let by_priority = tx.open_table(IDX_PRIORITY)?;
    let by_assignee = tx.open_table(IDX_ASSIGNEE)?;
    let by_requester = tx.open_table(IDX_REQUESTER)?;
    let by_department = tx.open_table(IDX_DEPARTMENT)?;
    let by_team = tx.open_table(IDX_TEAM)?;
    let assigned_open = tx.open_table(IDX_ASSIGNED_ACTIVE)?;
    let since = tx.open_table(STATUS_SINCE)?;
    // A status filter the candidates do not come from the status index
    // for is checked first in `status_since` (a fixed-width row), so a
    // ticket in another status is not read and decoded.
    let statuses: Vec<u8> = q.statuses.iter().map(|s| s.index()).collect();
    let partial_status = !q.statuses.is_empty() && q.statuses.len() < Status::ALL.len();
    let mut status_prechecked = partial_status;
    let only_active = partial_status && q.statuses.iter().all(|s| s.is_active());

    let candidates: Box<dyn Iterator<Item = Result<u64>> + '_> = match q.sort {
        Sort::Created | Sort::CreatedAsc => {
            let it = tickets.iter()?.map(|r| r.map(|(k, _)| (0i64, k.value())).map_err(Into::into));
            Box::new(ordered(it, q.sort == Sort::Created).map(|r| r.map(|(_, id)| id)))
        }
        Sort::Priority => {
            let prios: Vec<Priority> = match q.priority {
                Some(p) => vec![p],
                None => Priority::ALL.to_vec(),
            };
            let mut streams: Vec<Keys<'_>> = Vec::new();
            for p in prios {
                let i = p.index();
                let it = by_priority
                    .range((i, i64::MIN, 0)..=(i, i64::MAX, u64::MAX))?
                    .map(|r| r.map(|(k, _)| (k.value().1, k.value().2)).map_err(Into::into));
                streams.push(ordered(it, true));
            }
            Box::new(streams.into_iter().flatten().map(|r| r.map(|(_, id)| id)))
        }
        Sort::Updated | Sort::UpdatedAsc => {
            let desc = q.sort == Sort::Updated;
            let stream: Keys<'_> = if let Some(r) = q.requester {
                ordered(
                    by_requester
                        .range((r, i64::MIN, 0)..=(r, i64::MAX, u64::MAX))?
                        .map(|x| x.map(|(k, _)| (k.value().1, k.value().2)).map_err(Into::into)),
                    desc,
                )
            } else if let Some(team) = q.team.as_deref() {
                ordered(
                    by_team
                        .range((team, i64::MIN, 0)..=(team, i64::MAX, u64::MAX))?
                        .map(|x| x.map(|(k, _)| (k.value().1, k.value().2)).map_err(Into::into)),
                    desc,
                )
            } else if let AssigneeFilter::Person(a) = q.assignee {
                // Only active statuses: the index of open assigned work.
                let index = if only_active { &assigned_open } else { &by_assignee };
                ordered(
                    index
                        .range((a, i64::MIN, 0)..=(a, i64::MAX, u64::MAX))?
                        .map(|x| x.map(|(k, _)| (k.value().1, k.value().2)).map_err(Into::into)),
                    desc,
                )
            } else if partial_status {
                status_prechecked = false;
                let mut streams = Vec::new();
                for s in &q.statuses {
                    let i = s.index();
                    streams.push(ordered(
                        by_status
                            .range((i, i64::MIN, 0)..=(i, i64::MAX, u64::MAX))?
                            .map(|x| x.map(|(k, _)| (k.value().1, k.value().2)).map_err(Into::into)),
                        desc,
                    ));
                }
                Box::new(Merge::new(streams, desc)?.map(|r| r.map(|id| (0, id))))
            } else if q.assignee == AssigneeFilter::Unassigned {
                ordered(
                    by_assignee
                        .range((0, i64::MIN, 0)..=(0, i64::MAX, u64::MAX))?
                        .map(|x| x.map(|(k, _)| (k.value().1, k.value().2)).map_err(Into::into)),
                    desc,
                )
            } else if let Some(d) = q.department.as_deref() {
                ordered(
                    by_department
                        .range((d, i64::MIN, 0)..=(d, i64::MAX, u64::MAX))?
                        .map(|x| x.map(|(k, _)| (k.value().1, k.value().2)).map_err(Into::into)),
                    desc,
                )
            } else {
                ordered(by_updated.iter()?.map(|x| x.map(|(k, _)| k.value()).map_err(Into::into)), desc)
            };
            Box::new(stream.map(|r| r.map(|(_, id)| id)))
        }
    };

    let mut page = Vec::with_capacity(q.limit.min(500));
    let mut skipped = 0usize;
    for id in candidates {
        let id = id?;
        if status_prechecked && since.get(id)?.is_some_and(|v| !statuses.contains(&v.value().0)) {
            continue;
        }
        let Some(raw) = tickets.get(id)? else { continue };
        let t = codec::decode_ticket(raw.value())?;
        if !q.matches(&t) {
            continue;
        }
        if skipped < q.offset {
            skipped += 1;
            continue;
        }
        if page.len() == q.limit {
            return Ok((page, true));
        }
        page.push(t);
    }
    Ok((page, false))
}

#[cfg(test)]
mod tests {
    use super::super::*;
    use super::IDX_ASSIGNED_ACTIVE;
    use crate::domain::{PersonId, Status, Ticket, Timestamp};

    fn mine(store: &Store, statuses: Vec<Status>) -> Vec<u64> {
        let q = TicketQuery { assignee: AssigneeFilter::Person(7), statuses, limit: 50, ..Default::default() };
        store.read().unwrap().query(&q).unwrap().0.iter().map(|t| t.id.0).collect()
    }

    fn active() -> Vec<Status> {
        Status::ALL.iter().copied().filter(|s| s.is_active()).collect()
    }

    fn indexed(dir: &std::path::Path) -> Vec<u64> {
        use redb::ReadableDatabase;
        let db = redb::Database::open(dir.join(DB_FILE)).unwrap();
        let tx = db.begin_read().unwrap();
        let t = tx.open_table(IDX_ASSIGNED_ACTIVE).unwrap();
        t.iter().unwrap().map(|r| r.unwrap().0.value().2).collect()
    }

    /// The upgrade to schema 15 builds the index of open assigned work from
    /// the tickets a schema 14 desk left (which had no such table), leaving
    /// out the trashed, and sets right a status spell left stale.
    #[test]
    fn the_upgrade_indexes_open_assigned_work() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let statuses = [Status::Open, Status::Resolved, Status::Pending, Status::Closed, Status::OnHold];
        store
            .write(|w| -> Result<()> {
                for i in 1..=11u64 {
                    let mut t = Ticket::sample(i, 1_000 + i as i64);
                    t.status = statuses[i as usize % statuses.len()];
                    t.assignee = (i % 3 != 0).then_some(PersonId(7));
                    w.put_ticket(None, &t)?;
                }
                // Open and assigned, but in Trash.
                let t11 = w.ticket(crate::domain::TicketId(11))?.unwrap();
                w.trash_ticket(&t11, Timestamp(2_000))?;
                Ok(())
            })
            .unwrap();
        drop(store);
        {
            let db = redb::Database::open(dir.path().join(DB_FILE)).unwrap();
            let tx = db.begin_write().unwrap();
            tx.delete_table(IDX_ASSIGNED_ACTIVE).unwrap();
            tx.open_table(META).unwrap().insert("schema_version", 14).unwrap();
            // Ticket 2 (Pending) with the spell of a status it left, as a
            // change in Trash left it before schema 15.
            tx.open_table(super::super::timers::STATUS_SINCE).unwrap().insert(2, (Status::Resolved.index(), 1_002)).unwrap();
            tx.commit().unwrap();
        }
        let store = Store::open(dir.path()).unwrap();
        // Assigned (not 3, 6, 9) and active (not 1, 3, 6, 8 by the status
        // cycle), not trashed (11), newest first.
        assert_eq!(mine(&store, active()), vec![10, 7, 5, 4, 2]);
        assert_eq!(mine(&store, vec![Status::Resolved]), vec![1]);
        assert_eq!(mine(&store, vec![Status::Pending]), vec![7, 2]);
        assert_eq!(store.read().unwrap().meta("schema_version").unwrap(), SCHEMA_VERSION);
        drop(store);
        let mut rows = indexed(dir.path());
        rows.sort();
        assert_eq!(rows, vec![2, 4, 5, 7, 10]);
        // An agent's open work is read from the index: a row gone from it
        // is a ticket gone from the list.
        {
            let db = redb::Database::open(dir.path().join(DB_FILE)).unwrap();
            let tx = db.begin_write().unwrap();
            tx.open_table(IDX_ASSIGNED_ACTIVE).unwrap().remove((7, 1_005, 5)).unwrap();
            tx.commit().unwrap();
        }
        assert_eq!(mine(&Store::open(dir.path()).unwrap(), active()), vec![10, 7, 4, 2]);
    }

    /// A ticket reopened while in Trash (a customer's reply through the
    /// portal) and then restored is in its assignee's open work and found by
    /// its new status.
    #[test]
    fn a_ticket_changed_in_trash_is_found_by_its_status_when_restored() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let mut t = Ticket::sample(1, 1_000);
        t.status = Status::Resolved;
        t.assignee = Some(PersonId(7));
        store
            .write(|w| -> Result<bool> {
                w.put_ticket(None, &t)?;
                w.trash_ticket(&t, Timestamp(2_000))
            })
            .unwrap();
        let reopened = Ticket { status: Status::Open, updated_at: Timestamp(3_000), ..t.clone() };
        store
            .write(|w| -> Result<bool> {
                w.put_ticket(Some(&t), &reopened)?;
                w.restore_ticket(&reopened)
            })
            .unwrap();
        assert_eq!(mine(&store, active()), vec![1]);
        assert!(mine(&store, vec![Status::Resolved]).is_empty());
        // The requester's tickets come from their index, the status is
        // checked in its spell.
        let q = TicketQuery { requester: Some(2), statuses: vec![Status::Open], limit: 50, ..Default::default() };
        assert_eq!(store.read().unwrap().query(&q).unwrap().0.len(), 1);
    }
}
