//! The fake Resource Manager's writes (see `fake_arm.rs` for what they are built from): a table
//! `PUT` whole under `If-Match`, a route `PUT` and a route `DELETE`, each a long-running
//! operation with the recorded headers, and the faults a test asks for.

use super::*;

pub(super) fn put_table(s: &mut State, req: &Request) -> Reply {
    if let Some(reply) = s.write_fault() {
        return reply;
    }
    if s.faults.echo_auth {
        return echo_auth(req);
    }
    let current = s.etag_text();
    match (req.header("if-match"), req.header("if-none-match")) {
        (Some(sent), _) if sent != "*" && sent != current => return s.precondition_failed(sent),
        (_, Some("*")) => return s.precondition_failed("*"),
        _ => {}
    }
    let Ok(body) = serde_json::from_slice::<Value>(&req.body) else {
        return error(400, "InvalidRequestFormat", "Cannot parse the request.");
    };
    if body["id"]
        .as_str()
        .is_some_and(|i| !i.eq_ignore_ascii_case(&s.id))
    {
        return error(400, "InvalidRequestFormat", "The id does not match.");
    }
    if body["location"].as_str() != s.table["location"].as_str() {
        return error(
            400,
            "InvalidResourceLocation",
            "The resource cannot be moved to another location.",
        );
    }
    let mut routes = Vec::new();
    for r in body["properties"]["routes"]
        .as_array()
        .into_iter()
        .flatten()
    {
        match check_route(r) {
            Ok(route) => routes.push(route),
            Err(e) => return error(400, "InvalidRequestFormat", &e),
        }
    }
    if routes.len() > MAX_ROUTES {
        return error(
            400,
            "RouteTableRouteLimitExceeded",
            "A route table holds at most 1000 routes.",
        );
    }
    let names: Vec<&str> = routes.iter().map(|(n, _)| n.as_str()).collect();
    let fails = s.write_outcome(&names);
    let op = s.new_op(fails);
    if fails.is_none() {
        // A PUT replaces what it names; read-only properties are Azure's own.
        match body.get("tags") {
            Some(v) => s.table.insert("tags".into(), v.clone()),
            None => s.table.remove("tags"),
        };
        let props = s.table["properties"].as_object_mut().unwrap();
        let read_only = ["provisioningState", "resourceGuid", "subnets"];
        props.retain(|k, _| read_only.contains(&k.as_str()));
        for (k, v) in body["properties"].as_object().into_iter().flatten() {
            if k != "routes" && !read_only.contains(&k.as_str()) {
                props.insert(k.clone(), v.clone());
            }
        }
        s.routes = routes;
        if s.faults.mangle_put {
            s.routes.retain(|(n, _)| n != "default");
            let props = s.table["properties"].as_object_mut().unwrap();
            let flipped = !props["disableBgpRoutePropagation"]
                .as_bool()
                .unwrap_or(false);
            props.insert("disableBgpRoutePropagation".into(), json!(flipped));
        }
        s.wrote();
    }
    let answer = s.table_json("Updating");
    let url = operation_url(&s.host(), "operations", &op);
    let reply = Reply::Ok {
        status: 200,
        headers: vec![
            ("Azure-AsyncNotification".into(), "Enabled".into()),
            ("Azure-AsyncOperation".into(), url),
        ],
        body: serde_json::to_vec(&answer).unwrap(),
    };
    let reply = s.with_retry_after(reply);
    if fails.is_none() {
        return lose_answer(s, reply);
    }
    reply
}

/// `If-Match` (the table's ETag, shared by its routes; `*`: the route exists) or
/// `If-None-Match: *` (it does not).
fn route_precondition(s: &State, req: &Request, exists: bool) -> Option<Reply> {
    match (req.header("if-match"), req.header("if-none-match")) {
        (Some("*"), _) if !exists => Some(s.precondition_failed("*")),
        (Some(sent), _) if sent != "*" && sent != s.etag_text() => {
            Some(s.precondition_failed(sent))
        }
        (None, Some("*")) if exists => Some(s.precondition_failed("*")),
        _ => None,
    }
}

pub(super) fn put_route(s: &mut State, req: &Request, name: &str) -> Reply {
    if let Some(reply) = s.write_fault() {
        return reply;
    }
    if s.faults.echo_auth {
        return echo_auth(req);
    }
    let existing = s.routes.iter().position(|(n, _)| n == name);
    if let Some(reply) = route_precondition(s, req, existing.is_some()) {
        return reply;
    }
    let Ok(mut body) = serde_json::from_slice::<Value>(&req.body) else {
        return error(400, "InvalidRequestFormat", "Cannot parse the request.");
    };
    body["name"] = json!(name);
    let (_, props) = match check_route(&body) {
        Ok(r) => r,
        Err(e) => return error(400, "InvalidRequestFormat", &e),
    };
    if existing.is_none() && s.routes.len() >= MAX_ROUTES {
        return error(
            400,
            "RouteTableRouteLimitExceeded",
            "A route table holds at most 1000 routes.",
        );
    }
    let fails = s.write_outcome(&[name]);
    let op = s.new_op(fails);
    if fails.is_none() {
        match existing {
            Some(i) => s.routes[i].1 = props.clone(),
            None => s.routes.push((name.to_owned(), props.clone())),
        }
        s.wrote();
    }
    let mut answer = props;
    answer["provisioningState"] = json!("Updating");
    let body = json!({"name": name, "id": format!("{}/routes/{name}", s.id), "etag": s.etag_text(), "properties": answer, "type": "Microsoft.Network/routeTables/routes"});
    let url = operation_url(&s.host(), "operations", &op);
    let reply = Reply::Ok {
        status: if existing.is_some() { 200 } else { 201 },
        headers: vec![
            ("Azure-AsyncNotification".into(), "Enabled".into()),
            ("Azure-AsyncOperation".into(), url),
        ],
        body: serde_json::to_vec(&body).unwrap(),
    };
    let reply = s.with_retry_after(reply);
    if fails.is_none() {
        return lose_answer(s, reply);
    }
    reply
}

pub(super) fn delete_route(s: &mut State, req: &Request, name: &str) -> Reply {
    if let Some(reply) = s.write_fault() {
        return reply;
    }
    let existing = s.routes.iter().position(|(n, _)| n == name);
    if let Some(reply) = route_precondition(s, req, existing.is_some()) {
        return reply;
    }
    let Some(i) = existing else {
        return Reply::status(204);
    };
    let fails = s.write_outcome(&[]);
    let op = s.new_op(fails);
    if fails.is_none() {
        s.routes.remove(i);
        s.wrote();
    }
    let host = s.host();
    let reply = Reply::status(202)
        .with_header("Azure-AsyncNotification", "Enabled")
        .with_header(
            "Azure-AsyncOperation",
            &operation_url(&host, "operations", &op),
        )
        .with_header("Location", &operation_url(&host, "operationResults", &op));
    s.with_retry_after(reply)
}
