use super::*;
use base64::Engine;

fn jwt(claims: serde_json::Value) -> String {
    let encode = |value: &serde_json::Value| {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(value.to_string())
    };
    format!(
        "{}.{}.c2lnbmF0dXJl",
        encode(&serde_json::json!({"alg": "RS256", "typ": "JWT"})),
        encode(&claims)
    )
}

#[test]
fn decodes_github_claims_without_a_key() {
    let token = jwt(serde_json::json!({
        "sub": "repo:operationcode/back-end:environment:production",
        "aud": ["sts.amazonaws.com"],
        "repository": "operationcode/back-end",
        "ref": "refs/heads/main",
        "environment": "production",
        "exp": 1_900_000_000u64,
    }));
    let claims = Claims::of(&token).unwrap();
    assert_eq!(claims.aud, "sts.amazonaws.com");
    assert_eq!(claims.git_ref, "refs/heads/main");
    let text = claims.access_denied_explanation("arn:aws:iam::1:role/r");
    assert!(text.contains("\"token.actions.githubusercontent.com:sub\": \"repo:operationcode/back-end:environment:production\""));
    assert!(text.contains("repo:operationcode/back-end:*"));
    assert!(
        text.contains("this job uses `environment: production`"),
        "{text}"
    );
    assert!(!text.contains(&token));
    assert_eq!(Claims::of("not a jwt"), None);
}
