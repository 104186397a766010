//! Organizations (issue 15 part 5, the API of issue 17 part 13): people
//! join the organization of their address's domain (subdomains too, and
//! people met before it existed); agents move people; the organization's
//! page, the queue column and `org:` search; merging; clear refusals.

use crate::common::*;
use serde_json::json;

#[tokio::test]
async fn people_join_by_domain_and_organizations_are_searched_moved_and_merged() {
    let d = MailDesk::start();
    let mut web = Browser::logged_in(&d.server.base, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let api = &scoped_api(&mut web, &["tickets:read", "tickets:write", "people:read", "people:write"]).await;
    let ticket = |email: &'static str, subject: &'static str| async move {
        let body = json!({"subject": subject, "body": "Hello.", "requester": {"email": email}});
        let (code, t) = api.call("POST", "/tickets", Some(body)).await;
        assert_eq!(code, 201, "{t}");
        t["ref"].as_str().unwrap().to_string()
    };
    // Bob writes before Acme exists; Acme then gathers him by his domain.
    let bob_ticket = ticket("bob@acme.example", "Printer").await;
    let (code, acme) = api.call("POST", "/organizations", Some(json!({"name": "Acme Ltd", "domains": ["Acme.Example"]}))).await;
    assert_eq!(code, 201, "{acme}");
    assert_eq!(acme["domains"], json!(["acme.example"]));
    assert_eq!(acme["people_count"], 1, "{acme}");
    let id = acme["id"].as_u64().unwrap();
    // Carol, at a subdomain, joins as the desk first meets her.
    ticket("carol@eu.acme.example", "VPN").await;
    ticket("dan@other.example", "Other").await;
    let (_, acme) = api.call("GET", &format!("/organizations/{id}"), None).await;
    let people: Vec<&str> = acme["people"].as_array().unwrap().iter().map(|p| p["email"].as_str().unwrap()).collect();
    assert_eq!(people, vec!["bob@acme.example", "carol@eu.acme.example"]);
    // A domain belongs to one organization only.
    let (code, e) = api.call("POST", "/organizations", Some(json!({"name": "Copycat", "domains": ["acme.example"]}))).await;
    assert_eq!(code, 400, "{e}");
    assert!(e["error"].as_str().unwrap().contains("acme.example belongs to Acme Ltd"), "{e}");
    let (code, _) = api.call("POST", "/organizations", Some(json!({"name": "acme ltd"}))).await;
    assert_eq!(code, 400, "names are unique, any case");

    // Search finds Acme's tickets once the index has them.
    let mut found = 0;
    for _ in 0..200 {
        let (_, r) = api.call("GET", "/tickets?q=org:%22acme%20ltd%22", None).await;
        found = r["tickets"].as_array().map_or(0, Vec::len);
        if found == 2 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    assert_eq!(found, 2);

    // An agent moves Dan in by name, and Bob out.
    let (_, dan) = api.call("GET", "/people?q=dan%40other.example", None).await;
    let dan_id = dan["people"][0]["id"].as_u64().unwrap();
    let (code, p) = api.call("PATCH", &format!("/people/{dan_id}"), Some(json!({"organization": "Acme Ltd"}))).await;
    assert_eq!((code, p["organization"].as_str()), (200, Some("Acme Ltd")), "{p}");
    let (_, bob) = api.call("GET", "/people?q=bob%40acme.example", None).await;
    let bob_id = bob["people"][0]["id"].as_u64().unwrap();
    let (code, p) = api.call("PATCH", &format!("/people/{bob_id}"), Some(json!({"organization": null}))).await;
    assert_eq!((code, &p["organization"]), (200, &serde_json::Value::Null), "{p}");
    let (code, e) = api.call("PATCH", &format!("/people/{bob_id}"), Some(json!({"organization": "Nope Inc"}))).await;
    assert_eq!(code, 400, "{e}");

    // The web: the organization's page, the requester's line, the column.
    let page = web.get(&format!("/organizations/{id}")).await.body;
    let people = page.split("<h2>Tickets</h2>").next().unwrap_or("");
    assert!(
        people.contains("carol@eu.acme.example") && people.contains("dan@other.example") && !people.contains("bob@acme.example"),
        "{page}"
    );
    let queue = web.get("/tickets?cols=status,org").await.body;
    assert!(queue.contains("<th class=\"hide-sm\">Organization</th>") && queue.contains("Acme Ltd"), "{queue}");
    let r = web.post("/organizations", &[("name", "Acme Group"), ("domains", "acme-group.example")]).await;
    assert_eq!(r.status, 303);
    let group = r.location.unwrap();
    ticket("erin@acme-group.example", "Laptop").await;
    // Merged: Erin and the domain move to Acme Ltd; the group is gone.
    let r = web.post(&format!("{group}/merge"), &[("into", "Acme Ltd")]).await;
    assert_eq!((r.status, r.location.as_deref()), (303, Some(format!("/organizations/{id}").as_str())));
    let (_, acme) = api.call("GET", &format!("/organizations/{id}"), None).await;
    assert_eq!(acme["domains"], json!(["acme.example", "acme-group.example"]));
    assert_eq!(acme["people_count"], 3, "{acme}");
    let group_id = group.rsplit('/').next().unwrap();
    assert_eq!(api.call("GET", &format!("/organizations/{group_id}"), None).await.0, 404);
    let requester = web.get(&format!("/requesters/{bob_id}")).await.body;
    assert!(requester.contains("Organization: ") && requester.contains("none"), "{requester}");
    let _ = bob_ticket;
}

/// `[[organization]]` in the config: made at start, its people joining by
/// domain; a domain added in the file is applied at the next start; bad
/// entries are config errors naming the key.
#[tokio::test]
async fn organizations_from_the_config_are_made_and_kept() {
    let config =
        format!("{}\n[[organization]]\nname = \"Globex\"\ndomains = [\"globex.test\"]\nshared = true\n", crate::common::MAIL_CONFIG);
    let mut d = MailDesk::start_with_config(&config);
    let mut web = Browser::logged_in(&d.server.base, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let api = scoped_api(&mut web, &["tickets:read", "tickets:write", "people:read", "people:write"]).await;
    for email in ["bob@globex.test", "eve@eu.globex-eu.test"] {
        let (st, t) = api.call("POST", "/tickets", Some(json!({"subject": "Hi", "body": "Hi.", "requester": {"email": email}}))).await;
        assert_eq!(st, 201, "{t}");
    }
    let org_of = |email: &'static str| {
        let api = &api;
        async move {
            let (_, p) = api.call("GET", &format!("/people?q={}", email.replace('@', "%40")), None).await;
            let id = p["people"][0]["id"].as_u64().unwrap_or_default();
            let (_, one) = api.call("GET", &format!("/people/{id}"), None).await;
            one["organization"].clone()
        }
    };
    assert_eq!(org_of("bob@globex.test").await, json!("Globex"));
    assert_eq!(org_of("eve@eu.globex-eu.test").await, serde_json::Value::Null);
    let (_, orgs) = api.call("GET", "/organizations", None).await;
    let globex = orgs["organizations"].as_array().and_then(|a| a.iter().find(|o| o["name"] == "Globex").cloned()).expect("Globex");
    assert_eq!((globex["shared"].as_bool(), globex["domains"].clone()), (Some(true), json!(["globex.test"])), "{globex}");

    // A second domain in the file: applied at the next start, its people join.
    std::fs::write(&d.config, config.replace("domains = [\"globex.test\"]", "domains = [\"globex.test\", \"globex-eu.test\"]"))
        .expect("write");
    d.server.stop();
    d.restart();
    let api = crate::common::Api::new(&d.server.base, &api.token);
    let (_, p) = api.call("GET", "/people?q=eve%40eu.globex-eu.test", None).await;
    let (_, eve) = api.call("GET", &format!("/people/{}", p["people"][0]["id"].as_u64().unwrap_or_default()), None).await;
    assert_eq!(eve["organization"], json!("Globex"), "{eve}");

    // Bad entries name their key.
    let dir = crate::common::tempdir();
    let file = dir.path().join("frontdesk.toml");
    for (key, text) in [("organization.domains", "domains = [\"not a domain\"]"), ("organization.name", "name = \"\"")] {
        let body =
            if key.ends_with("name") { format!("[[organization]]\n{text}\n") } else { format!("[[organization]]\nname = \"X\"\n{text}\n") };
        std::fs::write(&file, body).expect("write");
        let (code, out, err) = crate::common::cli(dir.path(), &["--config", file.to_str().unwrap_or_default(), "check-config"], None);
        assert_ne!(code, 0);
        assert!(format!("{out}{err}").contains(key), "{key}: {out}{err}");
    }
}
