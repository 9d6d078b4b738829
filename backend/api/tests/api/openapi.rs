//! The OpenAPI document: committed, current, served, and complete.

use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::spawn_app;

/// Regenerate with `EXPECTORATE=overwrite cargo test --workspace openapi_document_is_committed_and_current`
/// (or `cargo run --bin shifting -- openapi > openapi/openapi.json`).
#[test]
fn openapi_document_is_committed_and_current() {
    let json = shifting_api::http::openapi::spec_json().unwrap();
    expectorate::assert_contents("../../openapi/openapi.json", &format!("{json}\n"));
}

#[tokio::test]
async fn the_served_document_is_the_generated_one() {
    let app = spawn_app().await;
    let served: Value = app
        .client
        .get(app.url("/api/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let generated: Value =
        serde_json::from_str(&shifting_api::http::openapi::spec_json().unwrap()).unwrap();
    assert_eq!(served, generated);
    assert_eq!(served["openapi"], "3.1.0");
}

#[test]
fn every_operation_documents_its_errors_and_protected_ones_their_security() {
    let spec: Value =
        serde_json::from_str(&shifting_api::http::openapi::spec_json().unwrap()).unwrap();
    assert_eq!(
        spec["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
    let paths = spec["paths"].as_object().unwrap();
    for expected in [
        "/api/auth/signup",
        "/api/auth/login",
        "/api/auth/refresh",
        "/api/auth/logout",
        "/api/me",
        "/health",
        "/ready",
    ] {
        assert!(paths.contains_key(expected), "{expected} is not documented");
    }
    for (path, operations) in paths {
        for (method, operation) in operations.as_object().unwrap() {
            let responses = operation["responses"].as_object().unwrap();
            let documents_errors = responses
                .keys()
                .any(|status| status.starts_with('4') || status.starts_with('5'));
            if path != "/health" {
                assert!(
                    documents_errors,
                    "{method} {path} documents no error response"
                );
            }
        }
    }
    assert_eq!(
        spec["paths"]["/api/me"]["get"]["security"][0]["bearer"],
        serde_json::json!([])
    );
}

#[tokio::test]
async fn the_interactive_docs_are_served_without_external_assets() {
    let app = spawn_app().await;
    let page = app.client.get(app.url("/api/docs/")).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    assert!(html.contains("swagger-ui"));
    assert!(
        !html.contains("https://"),
        "the docs page must not load anything from the internet"
    );
    let bundle = app
        .client
        .get(app.url("/api/docs/swagger-ui-bundle.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(bundle.status(), StatusCode::OK);
}

/// Every `$ref` names a schema the document holds, and the transaction filters' `role` is the
/// buyer/seller choice, not the user's role of the same name.
#[test]
fn every_reference_resolves_and_no_schema_is_mistaken_for_another() {
    fn refs<'a>(value: &'a Value, found: &mut Vec<&'a str>) {
        match value {
            Value::Object(map) => {
                if let Some(Value::String(target)) = map.get("$ref") {
                    found.push(target);
                }
                map.values().for_each(|v| refs(v, found));
            }
            Value::Array(items) => items.iter().for_each(|v| refs(v, found)),
            _ => {}
        }
    }
    let spec: Value =
        serde_json::from_str(&shifting_api::http::openapi::spec_json().unwrap()).unwrap();
    let mut found = Vec::new();
    refs(&spec, &mut found);
    assert!(!found.is_empty());
    for target in found {
        let name = target
            .strip_prefix("#/components/schemas/")
            .unwrap_or_else(|| panic!("{target} is not a schema reference"));
        assert!(
            spec["components"]["schemas"].get(name).is_some(),
            "{target} does not resolve"
        );
    }
    let role = spec["paths"]["/api/transactions"]["get"]["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "role")
        .unwrap();
    assert_eq!(
        role["schema"]["enum"],
        serde_json::json!(["buyer", "seller"])
    );
}

#[test]
fn every_link_names_an_operation_and_a_parameter_it_takes() {
    let spec = serde_json::to_value(shifting_api::http::openapi::spec()).expect("json");
    let mut operations = std::collections::BTreeMap::new();
    for item in spec["paths"].as_object().expect("paths").values() {
        for operation in item.as_object().expect("item").values() {
            if let Some(id) = operation["operationId"].as_str() {
                operations.insert(id.to_owned(), operation.clone());
            }
        }
    }
    let mut seen = 0;
    for (method, path, status, name, operation_id, parameter) in shifting_api::http::openapi::LINKS
    {
        let link =
            &spec["paths"][path][method.to_ascii_lowercase()]["responses"][status]["links"][name];
        assert_eq!(link["operationId"], *operation_id, "{method} {path} {name}");
        let target = operations
            .get(*operation_id)
            .unwrap_or_else(|| panic!("no operation {operation_id}"));
        let (parameter, expression) = parameter.split_once('=').expect("name=expression");
        assert_eq!(link["parameters"][parameter], expression);
        assert!(
            target["parameters"]
                .as_array()
                .expect("parameters")
                .iter()
                .any(|p| p["name"] == parameter && p["in"] == "path"),
            "{operation_id} takes no path parameter {parameter}"
        );
        // The expression points into the answer's schema.
        let pointer = expression
            .strip_prefix("$response.body#")
            .expect("a body pointer");
        let schema = spec["paths"][path][method.to_ascii_lowercase()]["responses"][status]
            ["content"]["application/json"]["schema"]["$ref"]
            .as_str()
            .expect("a schema reference");
        let mut at = &spec["components"]["schemas"][schema.rsplit('/').next().expect("name")];
        for part in pointer.trim_start_matches('/').split('/') {
            let property = &at["properties"][part];
            assert!(!property.is_null(), "{expression}: no {part} in {schema}");
            at = match property["$ref"].as_str() {
                Some(reference) => {
                    &spec["components"]["schemas"][reference.rsplit('/').next().expect("name")]
                }
                None => property,
            };
        }
        seen += 1;
    }
    assert_eq!(seen, 4);
}

/// The component schema `reference` names.
fn named<'a>(schemas: &'a Value, reference: &str) -> &'a Value {
    &schemas[reference.rsplit('/').next().expect("a name")]
}

/// The fields of `schema` (and of the objects it holds, each schema once) with no example
/// where one helps: a field needs none when its values are listed (an enum, a reference to
/// one, an array of them) or it is a boolean.
fn without_examples(
    schema: &Value,
    at: &str,
    schemas: &Value,
    seen: &mut std::collections::BTreeSet<String>,
    missing: &mut Vec<String>,
) {
    for (field, property) in schema["properties"].as_object().into_iter().flatten() {
        let place = format!("{at}.{field}");
        let reference = property["$ref"]
            .as_str()
            .or_else(|| property["oneOf"][0]["$ref"].as_str())
            .or_else(|| property["items"]["$ref"].as_str());
        if let Some(reference) = reference {
            let target = named(schemas, reference);
            if target.get("properties").is_some() {
                if seen.insert(reference.to_owned()) {
                    without_examples(target, &place, schemas, seen, missing);
                }
                continue;
            }
            // An enum lists its values; a composed schema (`allOf`) is checked where its
            // parts are used.
            if target.get("enum").is_some() || target.get("allOf").is_some() {
                continue;
            }
        }
        let boolean = property["type"] == "boolean"
            || property["type"]
                .as_array()
                .is_some_and(|t| t.iter().any(|t| t == "boolean"));
        // A free-form object (the audit log's before and after) has no fields to show.
        let free_form = property["type"] == "object"
            || property["type"]
                .as_array()
                .is_some_and(|t| t.iter().any(|t| t == "object"));
        if !(boolean
            || free_form
            || property.get("enum").is_some()
            || property.get("example").is_some())
        {
            missing.push(place);
        }
    }
}

#[test]
fn every_request_and_answer_field_has_an_example_or_says_its_values() {
    let spec = serde_json::to_value(shifting_api::http::openapi::spec()).expect("json");
    let schemas = &spec["components"]["schemas"];
    let mut missing = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    let mut bodies = 0;
    for (path, item) in spec["paths"].as_object().expect("paths") {
        for (method, operation) in item.as_object().expect("item") {
            let Some(schema) =
                operation["requestBody"]["content"]["application/json"].get("schema")
            else {
                continue;
            };
            bodies += 1;
            let schema = schema["$ref"]
                .as_str()
                .map_or(schema, |r| named(schemas, r));
            without_examples(
                schema,
                &format!("{method} {path}"),
                schemas,
                &mut seen,
                &mut missing,
            );
        }
    }
    // And what the successful answers hold, so every operation shows what it sends back.
    for (path, item) in spec["paths"].as_object().expect("paths") {
        for (method, operation) in item.as_object().expect("item") {
            for (status, response) in operation["responses"].as_object().expect("responses") {
                let Some(schema) = response["content"]["application/json"].get("schema") else {
                    continue;
                };
                if !status.starts_with('2') {
                    continue;
                }
                let schema = schema["$ref"]
                    .as_str()
                    .map_or(schema, |r| named(schemas, r));
                without_examples(
                    schema,
                    &format!("{method} {path} {status}"),
                    schemas,
                    &mut seen,
                    &mut missing,
                );
            }
        }
    }
    assert!(bodies > 30, "{bodies}");
    assert!(
        missing.is_empty(),
        "fields without an example: {missing:#?}"
    );
}
