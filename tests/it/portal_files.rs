//! The customer's own files on their ticket page (issue 18 part 4), through
//! the real SMTP and HTTP servers: the files of their mail and of the desk's
//! answers are listed and download through their signed link; they attach
//! files to a reply; a file over the limit is refused with the limit named
//! and their text kept; a note's file or a forged link gets nothing.

use crate::common::multipart;
use crate::common::smtp::Smtp;
use crate::inprocess::InProcess;
use frontdesk::desk::NewEntry;
use frontdesk::domain::TicketId;

/// The value of `name="…" value="…"` in a page.
fn field<'a>(page: &'a str, name: &str) -> &'a str {
    let at = page.find(&format!("name=\"{name}\" value=\"")).map(|i| i + name.len() + 15).unwrap_or(0);
    page[at..].split('"').next().unwrap_or("")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_customer_sees_their_files_and_attaches_more() {
    // Files may be larger than a plain request (request_max_bytes): the
    // ticket link in the form's address lets the upload through first.
    let d = InProcess::start_with("[limits]\nattachment_max_bytes = 6000\nrequest_max_bytes = 4096\n").await;
    let desk = d.running.desk.clone();
    let smtp = d.running.smtp.expect("smtp").to_string();
    let mail = "From: Carol <carol@customer.test>\r\nTo: support@example.test\r\nSubject: Scanner\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=B\r\n\r\n--B\r\nContent-Type: text/plain\r\n\r\nThe log is attached.\r\n--B\r\nContent-Type: text/plain\r\nContent-Disposition: attachment; filename=\"scan.log\"\r\n\r\nERROR 42 at page 3\r\n--B--\r\n";
    assert_eq!(Smtp::send_mail(&smtp, "carol@customer.test", &["support@example.test"], mail.as_bytes()).0, 250);
    let id = TicketId(1);
    for _ in 0..400 {
        if desk.ticket_view(&d.admin, id).is_ok() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    // A note with a file: agents only.
    let note = NewEntry {
        body: "Internal trace.".into(),
        internal: true,
        files: vec![("trace.txt".into(), "text/plain".into(), b"secret trace".to_vec())],
        ..Default::default()
    };
    let note = desk.post_entry(&d.admin, id, note).expect("note");

    let link = desk.portal_link_for(id, "carol@customer.test");
    let path = &link[link.find("/t/").expect("a ticket link")..];
    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let res = http.get(format!("{}{path}", d.base)).send().await.unwrap();
    let cookie = res.headers().get("set-cookie").and_then(|v| v.to_str().ok()).and_then(|c| c.split(';').next()).unwrap_or("").to_string();
    let page = res.text().await.unwrap();
    assert!(page.contains(">scan.log</a>"), "their own file is listed: {page}");
    assert!(!page.contains("trace.txt"), "a note's file is not");
    let file = page
        .split("href=\"")
        .find(|p| p.starts_with("/t/TKT-000001/files/"))
        .and_then(|p| p.split('"').next())
        .expect("a file link")
        .replace("&amp;", "&");
    let got = http.get(format!("{}{file}", d.base)).send().await.unwrap();
    assert_eq!(got.status(), 200);
    assert!(got.headers()["content-disposition"].to_str().unwrap().contains("scan.log"));
    assert_eq!(got.text().await.unwrap(), "ERROR 42 at page 3");
    // The note's file, the link forged: nothing.
    let q = &file[file.find('?').unwrap_or(0)..];
    assert_eq!(http.get(format!("{}/t/TKT-000001/files/{}/0{q}", d.base, note.seq)).send().await.unwrap().status(), 404);
    let forged = q.replace("s=", "s=0");
    assert_eq!(http.get(format!("{}/t/TKT-000001/files/1/0{forged}", d.base)).send().await.unwrap().status(), 404);

    // A reply with a file.
    let csrf = field(&page, "_csrf").to_string();
    let link_query = path.split_once('?').map(|(_, q)| q).unwrap_or("").to_string();
    assert!(
        page.contains(&format!("action=\"/t/TKT-000001/reply?_csrf={csrf}&amp;{}\"", link_query.replace('&', "&amp;"))),
        "the form's address carries the link: {page}"
    );
    let keys = [("_csrf", csrf.as_str()), ("p", field(&page, "p")), ("e", field(&page, "e")), ("s", field(&page, "s"))];
    let post = |fields: Vec<(&'static str, String)>, files: Vec<(&'static str, Vec<u8>)>| {
        let owned: Vec<(String, String)> =
            keys.iter().map(|(k, v)| (k.to_string(), v.to_string())).chain(fields.into_iter().map(|(k, v)| (k.to_string(), v))).collect();
        let refs: Vec<(&str, &str)> = owned.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let file_refs: Vec<(&str, &[u8])> = files.iter().map(|(n, d)| (*n, d.as_slice())).collect();
        let (ctype, body) = multipart(&refs, &file_refs);
        http.post(format!("{}/t/TKT-000001/reply?_csrf={csrf}&{link_query}", d.base))
            .header("cookie", &cookie)
            .header("content-type", ctype)
            .body(body)
            .send()
    };
    let r = post(vec![("body", "Here is the second log.".into())], vec![("second.log", b"ERROR 43".to_vec())]).await.unwrap();
    assert_eq!(r.status(), 303, "{}", r.text().await.unwrap_or_default());
    let v = desk.ticket_view(&d.admin, id).unwrap();
    let last = v.entries.iter().rev().find(|e| e.body == "Here is the second log.").expect("the reply");
    assert_eq!(last.attachments.iter().map(|a| a.filename.as_str()).collect::<Vec<_>>(), ["second.log"]);
    assert_eq!(last.author, Some(v.ticket.requester), "the customer's own entry");

    // Larger than a plain request, within the attachment limit: taken.
    let r = post(vec![("body", "The full dump.".into())], vec![("dump.log", vec![b'd'; 5000])]).await.unwrap();
    assert_eq!(r.status(), 303, "{}", r.text().await.unwrap_or_default());
    let v = desk.ticket_view(&d.admin, id).unwrap();
    assert!(v.entries.iter().any(|e| e.attachments.iter().any(|a| a.filename == "dump.log" && a.size == 5000)));
    // Over the limit: refused with the limit named, the text kept, nothing added.
    let r = post(vec![("body", "A big one.".into())], vec![("big.log", vec![b'x'; 9000])]).await.unwrap();
    assert_eq!(r.status(), 413);
    let page = r.text().await.unwrap();
    assert!(page.contains("6000 bytes per file") && page.contains(">A big one.</textarea>"), "{page}");
    assert_eq!(desk.ticket_view(&d.admin, id).unwrap().entries.len(), v.entries.len(), "nothing added");
}
