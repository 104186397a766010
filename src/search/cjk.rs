//! The search tokenizer for every script: words of letters and digits as
//! tantivy's simple tokenizer cuts them, and runs of Chinese, Japanese or
//! Korean characters — written without spaces between words — as
//! overlapping pairs of characters (bigrams) at consecutive positions, so
//! "ログイン" is found inside "ログインできません" as a phrase of its pairs.
//! A run of one such character is a token of its own.

use tantivy::tokenizer::{Language, LowerCaser, RemoveLongFilter, Stemmer, TextAnalyzer, Token, TokenStream, Tokenizer};

/// Name of the analyzer for subjects and bodies (English stemming).
pub const STEMMED: &str = "fd_stem";
/// Name of the analyzer for names, addresses and file names.
pub const PLAIN: &str = "fd_plain";

/// Registers both analyzers on `index` (tokenizers are not stored with it).
pub fn register(index: &tantivy::Index) {
    let t = index.tokenizers();
    t.register(
        STEMMED,
        TextAnalyzer::builder(CjkTokenizer)
            .filter(RemoveLongFilter::limit(40))
            .filter(LowerCaser)
            .filter(Stemmer::new(Language::English))
            .build(),
    );
    t.register(PLAIN, TextAnalyzer::builder(CjkTokenizer).filter(RemoveLongFilter::limit(40)).filter(LowerCaser).build());
}

/// Characters of the scripts written without spaces between words.
pub fn is_cjk(c: char) -> bool {
    matches!(c as u32,
        0x1100..=0x11FF       // Hangul Jamo
        | 0x3040..=0x30FF     // Hiragana, Katakana (with ー)
        | 0x3130..=0x318F     // Hangul compatibility Jamo
        | 0x31F0..=0x31FF     // Katakana phonetic extensions
        | 0x3400..=0x4DBF     // CJK extension A
        | 0x4E00..=0x9FFF     // CJK unified ideographs
        | 0xAC00..=0xD7AF     // Hangul syllables
        | 0xF900..=0xFAFF     // CJK compatibility ideographs
        | 0xFF66..=0xFF9F     // Halfwidth Katakana
        | 0x20000..=0x2FA1F) // CJK extensions B–F, compatibility supplement
}

/// Words and CJK bigrams (see the module doc).
#[derive(Clone, Default)]
pub struct CjkTokenizer;

/// The tokens of one text: byte ranges of the text, in order.
pub struct CjkTokenStream<'a> {
    text: &'a str,
    spans: Vec<(usize, usize)>,
    next: usize,
    token: Token,
}

/// The byte ranges of the tokens of `text`.
pub fn spans(text: &str) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut chars = text.char_indices().peekable();
    while let Some((start, c)) = chars.next() {
        if is_cjk(c) {
            // A run of CJK characters: each adjacent pair, or the one alone.
            let mut ends = vec![(start, start + c.len_utf8())];
            while let Some(&(i, d)) = chars.peek() {
                if !is_cjk(d) {
                    break;
                }
                ends.push((i, i + d.len_utf8()));
                chars.next();
            }
            if ends.len() == 1 {
                out.push(ends[0]);
            }
            out.extend(ends.windows(2).map(|w| (w[0].0, w[1].1)));
        } else if c.is_alphanumeric() {
            let mut end = start + c.len_utf8();
            while let Some(&(i, d)) = chars.peek() {
                if !d.is_alphanumeric() || is_cjk(d) {
                    break;
                }
                end = i + d.len_utf8();
                chars.next();
            }
            out.push((start, end));
        }
    }
    out
}

impl Tokenizer for CjkTokenizer {
    type TokenStream<'a> = CjkTokenStream<'a>;
    fn token_stream<'a>(&'a mut self, text: &'a str) -> CjkTokenStream<'a> {
        CjkTokenStream { text, spans: spans(text), next: 0, token: Token::default() }
    }
}

impl TokenStream for CjkTokenStream<'_> {
    fn advance(&mut self) -> bool {
        let Some(&(from, to)) = self.spans.get(self.next) else { return false };
        self.token.text.clear();
        self.token.text.push_str(self.text.get(from..to).unwrap_or_default());
        self.token.offset_from = from;
        self.token.offset_to = to;
        self.token.position = self.next;
        self.token.position_length = 1;
        self.next += 1;
        true
    }

    fn token(&self) -> &Token {
        &self.token
    }

    fn token_mut(&mut self) -> &mut Token {
        &mut self.token
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(text: &str) -> Vec<&str> {
        spans(text).into_iter().map(|(a, b)| &text[a..b]).collect()
    }

    #[test]
    fn words_and_bigrams() {
        assert_eq!(words("Hello, tax payer!"), ["Hello", "tax", "payer"]);
        assert_eq!(words("ログインできません"), ["ログ", "グイ", "イン", "ンで", "でき", "きま", "ませ", "せん"]);
        assert_eq!(words("VPNに接続できない (エラー 809)"), ["VPN", "に接", "接続", "続で", "でき", "きな", "ない", "エラ", "ラー", "809"]);
        assert_eq!(words("猫 と 犬"), ["猫", "と", "犬"]);
        assert_eq!(words("비밀번호 재설정"), ["비밀", "밀번", "번호", "재설", "설정"]);
        assert_eq!(words(""), Vec::<&str>::new());
    }
}
