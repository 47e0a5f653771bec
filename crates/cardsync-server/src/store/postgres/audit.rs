//! The PostgreSQL store's audit trail: the same tables as SQLite's (`sqlite/audit.rs`),
//! prefixed `cardsync_`. What a record is and why it is kept: `store/audit.rs`.

use postgres::{GenericClient, Row};

use super::bigint::{from_db, to_db};
use crate::store::audit::decode;
use crate::store::{Audit, AuditQuery, AuditRecord, DocId, SeqNo, StoreError};

/// Writes one record inside the caller's transaction.
pub(super) fn insert(
    tx: &mut impl GenericClient,
    doc: &DocId,
    seq: Option<SeqNo>,
    audit: &Audit,
) -> Result<(), StoreError> {
    let seq = seq.map(to_db);
    let row = tx.query_one(
        "INSERT INTO cardsync_audit (doc, at_ms, seq, detail) VALUES ($1, $2, $3, $4)
         RETURNING id",
        &[&doc.as_str(), &to_db(audit.at_ms), &seq, &audit.detail()?],
    )?;
    let id: i64 = row.get(0);
    for card in audit.cards() {
        tx.execute(
            "INSERT INTO cardsync_audit_cards (doc, card, audit_id) VALUES ($1, $2, $3)",
            &[&doc.as_str(), &card, &id],
        )?;
    }
    Ok(())
}

fn decode_rows(doc: &DocId, rows: &[Row]) -> Result<Vec<AuditRecord>, StoreError> {
    rows.iter()
        .map(|row| {
            let seq: Option<i64> = row.get(1);
            let detail: &str = row.get(2);
            decode(doc, from_db(row.get(0)), seq.map(from_db), detail)
        })
        .collect()
}

/// [`Store::read_audit`](crate::store::Store::read_audit).
pub(super) fn read(
    client: &mut impl GenericClient,
    doc: &DocId,
    query: &AuditQuery,
) -> Result<Vec<AuditRecord>, StoreError> {
    let since = to_db(query.since_ms.unwrap_or(0));
    let until = to_db(query.until_ms.unwrap_or(u64::MAX));
    let after = to_db(query.after);
    let rows = match query.card {
        Some(card) => client.query(
            "SELECT a.id, a.seq, a.detail FROM cardsync_audit_cards c
             JOIN cardsync_audit a ON a.id = c.audit_id
             WHERE c.doc = $1 AND c.card = $2 AND c.audit_id > $3
               AND a.at_ms >= $4 AND a.at_ms < $5
             ORDER BY c.audit_id LIMIT $6",
            &[
                &doc.as_str(),
                &card.to_string(),
                &after,
                &since,
                &until,
                &query.page(),
            ],
        )?,
        None => client.query(
            "SELECT id, seq, detail FROM cardsync_audit
             WHERE doc = $1 AND id > $2 AND at_ms >= $3 AND at_ms < $4
             ORDER BY id LIMIT $5",
            &[&doc.as_str(), &after, &since, &until, &query.page()],
        )?,
    };
    decode_rows(doc, &rows)
}

/// [`Store::read_accepted`](crate::store::Store::read_accepted).
pub(super) fn accepted(
    client: &mut impl GenericClient,
    doc: &DocId,
    after: SeqNo,
    limit: usize,
) -> Result<Vec<AuditRecord>, StoreError> {
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let rows = client.query(
        "SELECT id, seq, detail FROM cardsync_audit WHERE doc = $1 AND seq > $2
         ORDER BY seq LIMIT $3",
        &[&doc.as_str(), &to_db(after), &limit],
    )?;
    decode_rows(doc, &rows)
}

/// [`Store::prune_audit`](crate::store::Store::prune_audit), inside the caller's transaction.
pub(super) fn prune(tx: &mut impl GenericClient, before_ms: u64) -> Result<u64, StoreError> {
    let before = to_db(before_ms);
    tx.execute(
        "DELETE FROM cardsync_audit_cards WHERE audit_id IN
             (SELECT id FROM cardsync_audit WHERE at_ms < $1)",
        &[&before],
    )?;
    Ok(tx.execute("DELETE FROM cardsync_audit WHERE at_ms < $1", &[&before])?)
}
