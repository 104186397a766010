//! Config reload (issue 14 part 10) on a real `frontdesk serve` process:
//! SIGHUP applies a sound config to mailboxes and fields without dropping an
//! open SMTP session; a broken config is refused with the located error
//! `check-config` gives and the running one stays; both are logged.

use std::process::Command;

use crate::common::smtp::Smtp;
use crate::common::*;

fn hangup(d: &MailDesk) {
    let ok = Command::new("kill").arg("-HUP").arg(d.server.pid().to_string()).status().unwrap().success();
    assert!(ok, "kill -HUP failed");
}

/// The lines the server printed about reloads so far.
fn reload_lines(d: &MailDesk) -> Vec<String> {
    let out = d.server.stdout.lock().map(|s| s.clone()).unwrap_or_default();
    out.lines().filter(|l| l.contains("config reload")).map(str::to_string).collect()
}

/// Waits for the `n`th reload line.
fn nth_reload(d: &MailDesk, n: usize) -> String {
    for _ in 0..200 {
        if let Some(l) = reload_lines(d).get(n - 1) {
            return l.clone();
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    panic!("no reload line {n}: {:?}", reload_lines(d));
}

fn rcpt(c: &mut Smtp, to: &str) -> u16 {
    assert_eq!(c.cmd("MAIL FROM:<customer@client.test>").0, 250);
    let r = c.cmd(&format!("RCPT TO:<{to}>")).0;
    c.cmd("RSET");
    r
}

async fn field_names(d: &MailDesk) -> Vec<String> {
    let (status, v) = d.api.call("GET", "/fields", None).await;
    assert_eq!(status, 200, "{v}");
    v["fields"].as_array().into_iter().flatten().filter_map(|f| f["name"].as_str().map(str::to_string)).collect()
}

#[tokio::test]
async fn sighup_applies_a_sound_config_and_refuses_a_broken_one() {
    let d = MailDesk::spawn();
    // A session open across both reloads.
    let (mut open, _) = Smtp::connect(&d.smtp);
    assert_eq!(open.cmd("EHLO client.test").0, 250);
    assert_eq!(rcpt(&mut open, "billing@example.test"), 550, "not a mailbox yet");
    assert!(field_names(&d).await.is_empty());

    let sound = format!(
        "{MAIL_CONFIG}\n[[mailbox]]\naddress = \"billing@example.test\"\ndepartment = \"Sales\"\n\n\
         [[field]]\nname = \"asset\"\nkind = \"text\"\n"
    )
    .replace("hostname = \"desk.example.test\"", "hostname = \"renamed.example.test\"");
    std::fs::write(&d.config, &sound).unwrap();
    hangup(&d);
    let line = nth_reload(&d, 1);
    assert!(line.contains("config reloaded"), "{line}");
    assert!(line.contains("[smtp]") && line.contains("next restart"), "the listener's section waits for a restart: {line}");
    assert_eq!(rcpt(&mut open, "billing@example.test"), 250, "the open session sees the new mailbox");
    let (mut fresh, greeting) = Smtp::connect(&d.smtp);
    assert!(greeting.1.contains("desk.example.test"), "[smtp] keeps its running values: {}", greeting.1);
    assert_eq!(fresh.cmd("EHLO client.test").0, 250);
    assert_eq!(rcpt(&mut fresh, "billing@example.test"), 250);
    assert_eq!(field_names(&d).await, vec!["asset".to_string()]);

    // A department that does not exist: refused, located as check-config locates it.
    let broken = sound.replace("department = \"Sales\"\n\n[[field]]", "department = \"Nowhere\"\n\n[[field]]");
    std::fs::write(&d.config, &broken).unwrap();
    let (code, _, err) = cli(d.dir.path(), &["--config", d.config.to_str().unwrap(), "check-config"], None);
    assert_eq!(code, 2);
    hangup(&d);
    let line = nth_reload(&d, 2);
    assert!(line.contains("refused") && line.contains("the running config stays"), "{line}");
    let located = err.trim().trim_start_matches("frontdesk: ");
    assert!(line.contains(located), "the reload names what check-config names:\n{line}\n{located}");
    assert!(located.contains("line "), "{located}");
    assert_eq!(rcpt(&mut open, "billing@example.test"), 250, "the running config stays");

    // A canned response that does not render is refused too.
    std::fs::write(&d.config, format!("{sound}\n[[canned]]\nname = \"Broken\"\ntext = \"{{{{ oops\"\n")).unwrap();
    hangup(&d);
    let line = nth_reload(&d, 3);
    assert!(line.contains("refused") && line.contains("canned \"Broken\""), "{line}");
    assert_eq!(field_names(&d).await, vec!["asset".to_string()]);

    // A trigger naming someone who is not an agent of this desk is refused.
    let trigger = "\n[[trigger]]\nname = \"Hand over\"\non = [\"created\"]\nassign = \"nobody@example.test\"\n";
    std::fs::write(&d.config, format!("{sound}{trigger}")).unwrap();
    hangup(&d);
    let line = nth_reload(&d, 4);
    assert!(line.contains("refused") && line.contains("\"nobody@example.test\" is not an agent of this desk"), "{line}");
    std::fs::write(&d.config, format!("{sound}{}", trigger.replace("nobody@", "agent@"))).unwrap();
    hangup(&d);
    assert!(nth_reload(&d, 5).contains("config reloaded"), "{}", nth_reload(&d, 5));
    assert_eq!(open.cmd("QUIT").0, 221, "the session outlived every reload");
}

/// The admin's Settings page shows the running config (secrets hidden) and
/// where it was read from, and its Reload button does what SIGHUP does,
/// saying the outcome on the page.
#[tokio::test]
async fn the_settings_page_shows_the_config_and_reloads_it() {
    let with_secret = format!("{MAIL_CONFIG}\n[rspamd]\npassword = \"hunter2-secret\"\n");
    let d = MailDesk::spawn_with_config(&with_secret);
    let mut admin = Browser::logged_in(&d.server.base, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let page = admin.get("/admin/config").await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains(&format!("read from <code>{}</code>", d.config.display())), "the file: {}", page.body);
    assert!(page.body.contains("<h2 id=\"s-smtp\">[smtp]</h2>") && page.body.contains("<code>max_commands</code>"), "sections and keys");
    assert!(page.body.contains("Shortest password accepted"), "what each key does");
    assert!(page.body.contains("support@example.test"), "the [[mailbox]] tables");

    // The file gets a new desk name: Reload applies it; the secret stays hidden.
    std::fs::write(&d.config, with_secret.replace("[desk]\n", "[desk]\nname = \"Renamed Desk\"\n")).unwrap();
    let r = admin.post("/admin/config/reload", &[]).await;
    assert_eq!((r.status, r.location.as_deref()), (303, Some("/admin/config?reloaded=1")));
    let page = admin.get("/admin/config?reloaded=1").await.body;
    assert!(page.contains("class=\"notice ok\"") && page.contains("config reloaded"), "{page}");
    assert!(page.contains("&quot;Renamed Desk&quot;") || page.contains("\"Renamed Desk\""), "{page}");
    assert!(
        page.contains("(set, hidden)") && !page.contains("hunter2"),
        "secrets are not shown: {}",
        &page[page.find("id=\"s-rspamd").unwrap_or(0)..]
    );

    // A broken file changes nothing and the page says why.
    std::fs::write(&d.config, format!("{with_secret}\n[smtp]\nmax_commands = 0\n")).unwrap();
    admin.post("/admin/config/reload", &[]).await;
    let page = admin.get("/admin/config?reloaded=1").await.body;
    assert!(page.contains("class=\"notice error\"") && page.contains("refused"), "{page}");
}
