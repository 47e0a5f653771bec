//! The SQLite store's audit trail (what a record is and why it is kept: `store/audit.rs`).
//!
//! `audit(id, doc, at_ms, seq, detail)` holds one row per record, `detail` its JSON;
//! `audit_cards(doc, card, audit_id)` files each record under the cards its summary names, so
//! a card's history is an index range, not a scan of every record's JSON.

use rusqlite::{Connection, params};

use crate::store::audit::decode;
use crate::store::{Audit, AuditQuery, AuditRecord, DocId, SeqNo, StoreError};

/// Milliseconds as SQLite's integer (the far future saturates).
fn ms(at: u64) -> i64 {
    i64::try_from(at).unwrap_or(i64::MAX)
}

/// Writes one record inside the caller's transaction.
pub(super) fn insert(
    conn: &Connection,
    doc: &DocId,
    seq: Option<SeqNo>,
    audit: &Audit,
) -> Result<(), StoreError> {
    let id: i64 = conn
        .prepare_cached(
            "INSERT INTO audit (doc, at_ms, seq, detail) VALUES (?1, ?2, ?3, ?4) RETURNING id",
        )?
        .query_row(
            params![doc.as_str(), ms(audit.at_ms), seq, audit.detail()?],
            |r| r.get(0),
        )?;
    let mut file =
        conn.prepare_cached("INSERT INTO audit_cards (doc, card, audit_id) VALUES (?1, ?2, ?3)")?;
    for card in audit.cards() {
        file.execute(params![doc.as_str(), card, id])?;
    }
    Ok(())
}

fn rows(
    doc: &DocId,
    stmt: &mut rusqlite::CachedStatement<'_>,
    params: impl rusqlite::Params,
) -> Result<Vec<AuditRecord>, StoreError> {
    let mut rows = stmt.query(params)?;
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        let id: i64 = row.get(0)?;
        let seq: Option<SeqNo> = row.get(1)?;
        let detail: String = row.get(2)?;
        out.push(decode(doc, id.unsigned_abs(), seq, &detail)?);
    }
    Ok(out)
}

/// [`Store::read_audit`](crate::store::Store::read_audit).
pub(super) fn read(
    conn: &Connection,
    doc: &DocId,
    query: &AuditQuery,
) -> Result<Vec<AuditRecord>, StoreError> {
    let since = ms(query.since_ms.unwrap_or(0));
    let until = ms(query.until_ms.unwrap_or(u64::MAX));
    let after = ms(query.after);
    match query.card {
        Some(card) => rows(
            doc,
            &mut conn.prepare_cached(
                "SELECT a.id, a.seq, a.detail FROM audit_cards c JOIN audit a ON a.id = c.audit_id
                 WHERE c.doc = ?1 AND c.card = ?2 AND c.audit_id > ?3
                   AND a.at_ms >= ?4 AND a.at_ms < ?5
                 ORDER BY c.audit_id LIMIT ?6",
            )?,
            params![
                doc.as_str(),
                card.to_string(),
                after,
                since,
                until,
                query.page()
            ],
        ),
        None => rows(
            doc,
            &mut conn.prepare_cached(
                "SELECT id, seq, detail FROM audit
                 WHERE doc = ?1 AND id > ?2 AND at_ms >= ?3 AND at_ms < ?4
                 ORDER BY id LIMIT ?5",
            )?,
            params![doc.as_str(), after, since, until, query.page()],
        ),
    }
}

/// [`Store::read_accepted`](crate::store::Store::read_accepted).
pub(super) fn accepted(
    conn: &Connection,
    doc: &DocId,
    after: SeqNo,
    limit: usize,
) -> Result<Vec<AuditRecord>, StoreError> {
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    rows(
        doc,
        &mut conn.prepare_cached(
            "SELECT id, seq, detail FROM audit WHERE doc = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3",
        )?,
        params![doc.as_str(), after, limit],
    )
}

/// [`Store::prune_audit`](crate::store::Store::prune_audit), inside the caller's transaction.
pub(super) fn prune(conn: &Connection, before_ms: u64) -> Result<u64, StoreError> {
    let before = ms(before_ms);
    conn.prepare_cached(
        "DELETE FROM audit_cards WHERE audit_id IN (SELECT id FROM audit WHERE at_ms < ?1)",
    )?
    .execute([before])?;
    let deleted = conn
        .prepare_cached("DELETE FROM audit WHERE at_ms < ?1")?
        .execute([before])?;
    Ok(deleted as u64)
}
