use super::*;

#[tokio::test]
async fn a_blob_over_the_limit_is_refused() {
    use wiremock::{Mock, MockServer, ResponseTemplate, matchers::any};
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(200).set_body_bytes(vec![b'x'; 3000]))
        .mount(&server)
        .await;
    let fetch = || async { reqwest::get(server.uri()).await.unwrap() };
    assert_eq!(read_capped(fetch().await, 3000).await.unwrap().len(), 3000);
    let error = read_capped(fetch().await, 2999)
        .await
        .unwrap_err()
        .to_string();
    assert!(error.contains("sent more than"), "{error}");
}

#[test]
fn hosts_and_schemes() {
    assert_eq!(
        host_of_endpoint("https://123456789012.dkr.ecr.us-east-2.amazonaws.com"),
        "123456789012.dkr.ecr.us-east-2.amazonaws.com"
    );
    assert_eq!(base_url("127.0.0.1:5000"), "http://127.0.0.1:5000");
    assert_eq!(
        base_url("127.0.0.1.nip.example:5000"),
        "https://127.0.0.1.nip.example:5000",
        "a name that looks like an address is not loopback"
    );
    assert_eq!(
        base_url("123456789012.dkr.ecr.us-east-2.amazonaws.com"),
        "https://123456789012.dkr.ecr.us-east-2.amazonaws.com"
    );
}
