//! Mail displays as sent (issue 18 part 4), over real SMTP: display names
//! and subjects written in a legacy charset without encoded words (raw
//! ISO-2022-JP, raw ISO-8859-1) read as written, and an HTML-only table
//! reads as rows.

use crate::common::MailDesk;
use crate::common::smtp::Smtp;

#[tokio::test]
async fn raw_legacy_header_fields_read_as_written() {
    let d = MailDesk::start();
    let jis: &[u8] = b"From: \x1b$B:4F#\x1b(B \x1b$B7r\x1b(B <sato@example.jp>\r\nTo: support@example.test\r\nSubject: \x1b$B%m%0%$%s\x1b(B\r\nMessage-ID: <jis1@example.jp>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=ISO-2022-JP\r\n\r\n\x1b$B%Q%9%o!<%I\x1b(B\r\n";
    let latin: &[u8] = b"From: J\xfcrgen Wei\xdf <j@example.de>\r\nTo: support@example.test\r\nSubject: Gr\xfc\xdfe aus K\xf6ln\r\nMessage-ID: <latin1@example.de>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=ISO-8859-1\r\n\r\nDrucker kaputt.\r\n";
    assert_eq!(Smtp::send_mail(&d.smtp, "sato@example.jp", &["support@example.test"], jis).0, 250);
    assert_eq!(Smtp::send_mail(&d.smtp, "j@example.de", &["support@example.test"], latin).0, 250);
    let tickets = d.wait_tickets(2).await;
    let by = |email: &str| tickets.iter().find(|t| t["requester"]["email"] == email).cloned().unwrap_or_default();
    let sato = by("sato@example.jp");
    assert_eq!(sato["requester"]["name"], "佐藤 健", "{sato}");
    assert_eq!(sato["subject"], "ログイン");
    let jurgen = by("j@example.de");
    assert_eq!(jurgen["requester"]["name"], "Jürgen Weiß", "{jurgen}");
    assert_eq!(jurgen["subject"], "Grüße aus Köln");
    let t = d.ticket(jurgen["ref"].as_str().unwrap()).await;
    assert!(t["entries"].as_array().unwrap().iter().any(|e| e["body"].as_str().unwrap_or("").contains("Drucker kaputt.")), "{t}");
    let t = d.ticket(sato["ref"].as_str().unwrap()).await;
    assert!(t["entries"].as_array().unwrap().iter().any(|e| e["body"].as_str().unwrap_or("").contains("パスワード")), "{t}");
}

/// An HTML-only message with a table and a list (issue 18 part 4): the
/// ticket's text has a line per row, cells separated, and bullets.
#[tokio::test]
async fn an_html_table_reads_as_rows() {
    let d = MailDesk::start();
    let html: &[u8] = b"From: Shop <orders@shop.test>\r\nTo: support@example.test\r\nSubject: Order 7781\r\nMessage-ID: <o7781@shop.test>\r\nMIME-Version: 1.0\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<html><body><div>Your order</div><table><tr><th>Item</th><th>Qty</th></tr><tr><td>Toner</td><td>2</td></tr></table><ul><li>ships Monday</li></ul></body></html>\r\n";
    assert_eq!(Smtp::send_mail(&d.smtp, "orders@shop.test", &["support@example.test"], html).0, 250);
    let t = d.wait_tickets(1).await;
    let t = d.ticket(t[0]["ref"].as_str().unwrap()).await;
    let body = t["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find_map(|e| e["body"].as_str().filter(|b| b.contains("Toner")))
        .unwrap_or_default()
        .to_string();
    assert!(body.contains("Item | Qty\nToner | 2\n") && body.contains("• ships Monday"), "{body}");
}
