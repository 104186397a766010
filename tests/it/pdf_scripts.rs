//! The PDF of a ticket prints every script (issue 18 part 5): through the
//! real HTTP server, a ticket in Japanese, Korean, Greek and Russian comes
//! out as a PDF whose text, extracted by poppler's `pdftotext`, is the
//! ticket's text. (`FRONTDESK_PDFTEXT_REQUIRED=1` in CI: the tool and the
//! fonts must be there.)

use crate::common::Browser;
use crate::inprocess::{InProcess, PASSWORD};
use frontdesk::desk::NewTicket;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_japanese_ticket_prints_in_japanese() {
    if std::process::Command::new("pdftotext").arg("-v").output().is_err() {
        assert!(std::env::var("FRONTDESK_PDFTEXT_REQUIRED").is_err(), "pdftotext (poppler-utils) missing");
        eprintln!("SKIPPED: install poppler-utils, fonts-dejavu-core and fonts-droid-fallback (or run .ci/run)");
        return;
    }
    let d = InProcess::start().await;
    let body = "パスワードを忘れました。\n비밀번호를 재설정하고 싶습니다.\nΚαλημέρα, Привет — Grüße.";
    let new = NewTicket {
        subject: "ログインできません".into(),
        body: body.into(),
        requester_email: "sato@customer.test".into(),
        ..Default::default()
    };
    let t = d.running.desk.create_ticket(&d.admin, new).expect("ticket");
    let ada = Browser::logged_in(&d.base, "ada@example.test", PASSWORD).await;
    let http = reqwest::Client::new();
    let res = http
        .get(format!("{}/tickets/{}/pdf", d.base, d.running.desk.reference(t.id)))
        .header("cookie", ada.cookie_header())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let bytes = res.bytes().await.unwrap();
    assert!(bytes.starts_with(b"%PDF-"));
    assert!(bytes.len() < 300_000, "the fonts are subsets, not whole files: {} bytes", bytes.len());
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("ticket.pdf");
    std::fs::write(&file, &bytes).unwrap();
    let out = std::process::Command::new("pdftotext").arg("-enc").arg("UTF-8").arg(&file).arg("-").output().expect("pdftotext");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout);
    for want in ["ログインできません", "パスワードを忘れました", "비밀번호를", "Καλημέρα", "Привет", "Grüße"]
    {
        assert!(text.contains(want), "{want} is not in the PDF's text:\n{text}");
    }
    assert!(!text.contains("???"), "no character printed as '?':\n{text}");
}
