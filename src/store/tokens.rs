//! API tokens: listed and revoked by their id (the first 12 hex digits of
//! the token's hash; the token itself is never stored).

use redb::ReadableTable;

use super::{API_TOKENS, ApiToken, Read, Result, Write, codec};
use crate::domain::PersonId;

/// Characters of the token hash that name a token.
pub const TOKEN_ID_LEN: usize = 12;

/// A token's id: the first `TOKEN_ID_LEN` hex digits of its hash.
pub fn token_id(token: &str) -> String {
    super::sha256_hex(token.as_bytes()).chars().take(TOKEN_ID_LEN).collect()
}

impl Read {
    /// Every API token: (id, token record), by id.
    pub fn api_tokens(&self) -> Result<Vec<(String, ApiToken)>> {
        let t = self.tx.open_table(API_TOKENS)?;
        let mut out = Vec::new();
        for row in t.iter()? {
            let (k, v) = row?;
            let id: String = k.value().chars().take(TOKEN_ID_LEN).collect();
            out.push((id, codec::decode_api_token(v.value())?));
        }
        Ok(out)
    }
}

impl Write {
    /// Removes the tokens whose hash starts with `id`; returns how many.
    pub fn delete_api_token(&mut self, id: &str) -> Result<usize> {
        self.remove_where(API_TOKENS, |k, _| Ok(k.starts_with(id)))
    }

    /// Removes every API token of a person (password reset, deactivation).
    pub fn delete_api_tokens_of(&mut self, person: u64) -> Result<usize> {
        self.remove_where(API_TOKENS, |_, v| Ok(codec::decode_api_token(v)?.person == PersonId(person)))
    }

    /// Records a token's last use.
    pub fn touch_api_token(&mut self, token: &str, at: crate::domain::Timestamp) -> Result<()> {
        if let Some(mut t) = self.api_token(token)? {
            t.last_used = Some(at);
            self.put_api_token(token, &t)?;
        }
        Ok(())
    }
}
