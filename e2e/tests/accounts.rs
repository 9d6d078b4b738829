//! Accounts in a real browser: sign up, stay signed in across a reload and past an access token
//! that ran out, log out, log in, and field errors shown next to their fields; the pages around
//! the purchase checked with axe-core in both languages, with their titles and focus; a forgotten
//! password and a confirmed address through the links mailed to the local mailbox; notices and
//! account deletion in the settings.
//!
//! These tests need the built web app and ChromeDriver, so `cargo test` skips them; the README's
//! test command runs them (`cargo test --workspace --test accounts -- --ignored`).

use fantoccini::key::Key;
use shifting_e2e::{Browser, PASSWORD, Server, run_scenario, run_scenario_in};

#[tokio::test]
#[ignore = "needs the built web app and chromedriver: run scripts/test.sh"]
async fn a_visitor_signs_up_stays_signed_in_logs_out_and_logs_back_in() {
    run_scenario("sign-up-and-log-in", 1280, 900, async |server, browser| {
        browser.open(&format!("{}/", server.url)).await?;
        browser.click("a[href='/signup'].button").await?;
        browser.wait_for_path("/signup").await?;
        browser.fill("username", "Alice").await?;
        browser.fill("email", "alice@example.com").await?;
        browser.fill("password", PASSWORD).await?;
        browser.click("form button[type=submit]").await?;

        browser
            .wait_for_text("[data-testid=signed-in-as]", "Alice")
            .await?;
        browser.wait_for_path("/").await?;
        browser
            .wait_for_text("[data-testid=welcome]", "Alice")
            .await?;
        // A new account is shown its first steps, none done yet.
        browser.wait_for("[data-testid=first-steps]").await?;
        anyhow::ensure!(
            browser
                .count("[data-testid=first-steps] li[data-done=false]")
                .await?
                == 3,
            "a new account has steps done"
        );
        browser.screenshot("home-first-steps").await;

        // The access token lives in memory only: a reload restores it from the refresh cookie.
        browser.client.refresh().await?;
        browser
            .wait_for_text("[data-testid=signed-in-as]", "Alice")
            .await?;

        browser.click(".nav-links button").await?;
        browser.wait_for(".nav-links a[href='/login']").await?;
        browser
            .wait_for_text("[data-testid=signed-out]", "You are logged out")
            .await?;
        browser.client.refresh().await?;
        browser.wait_for(".nav-links a[href='/login']").await?;

        browser.click(".nav-links a[href='/login']").await?;
        browser.fill("login", "ALICE@example.com").await?;
        browser.fill("password", PASSWORD).await?;
        browser.click("form button[type=submit]").await?;
        browser
            .wait_for_text("[data-testid=signed-in-as]", "Alice")
            .await?;
        Ok(())
    })
    .await;
}

#[tokio::test]
#[ignore = "needs the built web app and chromedriver: run scripts/test.sh"]
async fn bad_input_and_wrong_credentials_are_explained_next_to_the_fields() {
    run_scenario("form-errors", 390, 844, async |server, browser| {
        browser.open(&format!("{}/signup", server.url)).await?;
        browser.fill("username", "al").await?;
        browser.fill("email", "not-an-email").await?;
        browser.fill("password", "password123").await?;
        browser.click("form button[type=submit]").await?;
        browser
            .wait_for_text("#username-error", "between 3 and 32")
            .await?;
        browser
            .wait_for_text("#email-error", "not a valid e-mail")
            .await?;
        browser
            .wait_for_text("#password-error", "too common")
            .await?;
        let invalid = browser
            .wait_for("#email")
            .await?
            .attr("aria-invalid")
            .await?;
        anyhow::ensure!(
            invalid.as_deref() == Some("true"),
            "the e-mail input is not marked invalid"
        );

        // A server-side conflict lands next to its field too.
        browser.fill("username", "bob").await?;
        browser.fill("email", "bob@example.com").await?;
        browser.fill("password", PASSWORD).await?;
        browser.click("form button[type=submit]").await?;
        browser
            .wait_for_text("[data-testid=signed-in-as]", "bob")
            .await?;
        browser.click(".nav-links button").await?;
        browser.open(&format!("{}/signup", server.url)).await?;
        browser.fill("username", "BOB").await?;
        browser.fill("email", "someone@example.com").await?;
        browser.fill("password", PASSWORD).await?;
        browser.click("form button[type=submit]").await?;
        browser
            .wait_for_text("#username-error", "already taken")
            .await?;

        browser.open(&format!("{}/login", server.url)).await?;
        browser.fill("login", "bob").await?;
        browser.fill("password", "not the password at all").await?;
        browser.click("form button[type=submit]").await?;
        browser
            .wait_for_text(".form-error", "password is wrong")
            .await?;
        Ok(())
    })
    .await;
}

#[tokio::test]
#[ignore = "needs the built web app and chromedriver: run scripts/test.sh"]
async fn a_tab_whose_access_token_ran_out_renews_it_once_and_carries_on() {
    run_scenario("expired-access-token", 1280, 900, async |server, browser| {
        browser.open(&format!("{}/signup", server.url)).await?;
        browser.submit_sign_up("carol").await?;

        // As after a laptop slept past the renewal timer: the server refuses the access token
        // in memory until the app has renewed it from the refresh cookie.
        browser
            .client
            .execute(
                r"
                const send = window.fetch.bind(window);
                let renewed = false;
                window.refused = 0;
                window.refreshes = 0;
                window.fetch = async (input, init) => {
                    let request = new Request(input, init);
                    if (new URL(request.url).pathname === '/api/auth/refresh') {
                        window.refreshes += 1;
                        const response = await send(request);
                        renewed = true;
                        return response;
                    }
                    if (!renewed && request.headers.has('authorization')) {
                        const headers = new Headers(request.headers);
                        headers.set('authorization', 'Bearer ran.out.token');
                        request = new Request(request, { headers });
                        window.refused += 1;
                    }
                    return send(request);
                };
                ",
                Vec::new(),
            )
            .await?;

        // The dashboard's three requests are refused, one renewal serves them all, and each is
        // sent again: the page shows its data, and the user is still signed in.
        browser.click(".nav-links a[href='/dashboard']").await?;
        browser.wait_for_path("/dashboard").await?;
        browser.wait_for_text("body", "You have no rooms yet").await?;
        browser.wait_for_text("body", "Nothing bought yet").await?;
        browser.wait_for_text("body", "No sales yet").await?;
        browser
            .wait_for_text("[data-testid=signed-in-as]", "carol")
            .await?;
        let counts = browser
            .client
            .execute("return [window.refused, window.refreshes];", Vec::new())
            .await?;
        let (refused, refreshes) = (counts[0].as_u64(), counts[1].as_u64());
        anyhow::ensure!(
            refused.is_some_and(|n| n >= 1) && refreshes == Some(1),
            "expected at least one refused request and exactly one renewal, got {refused:?} refused and {refreshes:?} renewals"
        );
        Ok(())
    })
    .await;
}

/// Titles of the pages visited, in the browser's language.
struct Titles {
    log_in: &'static str,
    sign_up: &'static str,
    not_found: &'static str,
    dashboard: &'static str,
    settings: &'static str,
}

/// The page's `document.title`, and the tag of the element that has the focus.
async fn title_and_focus(browser: &Browser) -> anyhow::Result<(String, String)> {
    let focused = browser
        .client
        .execute("return document.activeElement.tagName;", Vec::new())
        .await?;
    Ok((
        browser.client.title().await?,
        focused.as_str().unwrap_or_default().to_owned(),
    ))
}

/// Visits the pages around the purchase, by keyboard where a person would use links: each has
/// its own title, takes the focus to its heading, and passes axe.
async fn visit_the_pages(
    server: &Server,
    browser: &Browser,
    titles: &Titles,
) -> anyhow::Result<()> {
    browser.open(&format!("{}/", server.url)).await?;
    browser.check_accessibility("home").await?;
    browser.activate(".nav-links a[href='/login']").await?;
    browser.wait_for_path("/login").await?;
    browser.wait_for("#login").await?;
    let (title, focused) = title_and_focus(browser).await?;
    anyhow::ensure!(title == titles.log_in, "log-in page title {title:?}");
    anyhow::ensure!(
        focused == "H1",
        "the focus is on {focused}, not the heading"
    );
    browser.check_accessibility("log-in").await?;
    browser.activate("a[href^='/signup']").await?;
    browser.wait_for("#username").await?;
    let (title, focused) = title_and_focus(browser).await?;
    anyhow::ensure!(title == titles.sign_up, "sign-up page title {title:?}");
    anyhow::ensure!(
        focused == "H1",
        "the focus is on {focused}, not the heading"
    );
    // Errors are described next to their fields and pass axe too.
    browser.activate("form button[type=submit]").await?;
    browser.wait_for("#username[aria-invalid=true]").await?;
    browser.check_accessibility("sign-up with errors").await?;
    browser
        .open(&format!("{}/no-such-page", server.url))
        .await?;
    browser.wait_for("main h1").await?;
    anyhow::ensure!(browser.client.title().await? == titles.not_found);
    browser.check_accessibility("not found").await?;
    browser.open(&format!("{}/r/ZZZZZZ", server.url)).await?;
    browser.wait_for("main h1").await?;
    browser.check_accessibility("unknown room").await?;
    browser.open(&format!("{}/signup", server.url)).await?;
    browser.submit_sign_up("ana").await?;
    browser.wait_for("[data-testid=welcome]").await?;
    browser.check_accessibility("home, signed in").await?;
    browser.activate(".nav-links a[href='/dashboard']").await?;
    browser.wait_for_path("/dashboard").await?;
    browser.wait_for(".empty").await?;
    anyhow::ensure!(browser.client.title().await? == titles.dashboard);
    browser.check_accessibility("empty dashboard").await?;
    browser.activate(".nav-links a[href='/settings']").await?;
    browser.wait_for("#wallet_address").await?;
    anyhow::ensure!(browser.client.title().await? == titles.settings);
    browser
        .check_accessibility("settings without a wallet")
        .await?;
    // The skip link is the first stop of the keyboard and leads to the content.
    browser.client.refresh().await?;
    browser.wait_for("#wallet_address").await?;
    browser.press(Key::Tab).await?;
    let first = browser
        .client
        .execute("return document.activeElement.className;", Vec::new())
        .await?;
    anyhow::ensure!(first == "skip-link", "the first Tab stop is {first}");
    Ok(())
}

#[tokio::test]
#[ignore = "needs the built web app and chromedriver: run scripts/test.sh"]
async fn the_pages_around_the_purchase_are_accessible_in_english_and_spanish() {
    run_scenario_in("pages-en", 1280, 900, "en-US", async |server, browser| {
        let titles = Titles {
            log_in: "Log in · Shifting",
            sign_up: "Create your account · Shifting",
            not_found: "Page not found · Shifting",
            dashboard: "Dashboard · Shifting",
            settings: "Settings · Shifting",
        };
        visit_the_pages(server, browser, &titles).await?;
        // The check itself can fail: a button without a name is a critical problem.
        browser
            .client
            .execute(
                "document.querySelector('main').append(document.createElement('button'));",
                Vec::new(),
            )
            .await?;
        let found = browser.check_accessibility("a nameless button").await;
        anyhow::ensure!(
            found
                .as_ref()
                .is_err_and(|e| e.to_string().contains("button-name")),
            "axe missed a nameless button: {found:?}"
        );
        Ok(())
    })
    .await;
    run_scenario_in("pages-es", 390, 844, "es-ES", async |server, browser| {
        let titles = Titles {
            log_in: "Iniciar sesión · Shifting",
            sign_up: "Crea tu cuenta · Shifting",
            not_found: "Página no encontrada · Shifting",
            dashboard: "Panel · Shifting",
            settings: "Ajustes · Shifting",
        };
        visit_the_pages(server, browser, &titles).await
    })
    .await;
}

/// Opens the newest mail to `to` whose subject is `subject` in the local mailbox
/// (`/sandbox/mail`), waiting for it to be delivered, and follows its link to `path`.
async fn follow_mailed_link(
    server: &Server,
    browser: &Browser,
    to: &str,
    subject: &str,
    path: &str,
) -> anyhow::Result<()> {
    let mailbox = format!("{}/sandbox/mail?to={to}", server.url);
    let link = format!("ol.mails a[data-subject='{subject}']");
    let mut found = false;
    for _ in 0..100 {
        browser.client.goto(&mailbox).await?;
        if browser.count(&link).await? > 0 {
            found = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    anyhow::ensure!(found, "no mail {subject:?} to {to} arrived");
    browser.check_accessibility("the local mailbox").await?;
    browser.click(&link).await?;
    browser.wait_for("h1").await?;
    browser
        .check_accessibility("a mail in the local mailbox")
        .await?;
    browser.expect_no_horizontal_scroll().await?;
    browser.click(&format!("a[href*='{path}#token=']")).await?;
    browser.wait_for_path(path).await?;
    browser.wait_for(".nav .brand").await?;
    Ok(())
}

#[tokio::test]
#[ignore = "needs the built web app and chromedriver: run scripts/test.sh"]
async fn a_person_who_forgot_the_password_gets_back_in_through_the_mailed_link() {
    run_scenario("forgot-password", 390, 844, async |server, browser| {
        browser.open(&format!("{}/signup", server.url)).await?;
        browser.submit_sign_up("ana").await?;
        browser.click(".nav-links button").await?;
        browser.wait_for(".nav-links a[href='/login']").await?;

        browser.click(".nav-links a[href='/login']").await?;
        browser.click("a[href='/forgot-password']").await?;
        browser.wait_for_path("/forgot-password").await?;
        browser.wait_for("#email").await?;
        browser.check_accessibility("forgot password").await?;
        browser.expect_no_horizontal_scroll().await?;
        browser.fill("email", "ana@example.com").await?;
        browser.click("form button[type=submit]").await?;
        browser
            .wait_for_text("[data-testid=reset-sent]", "30 minutes")
            .await?;
        browser.check_accessibility("reset link sent").await?;
        browser.screenshot("forgot-password-sent").await;

        follow_mailed_link(
            server,
            browser,
            "ana@example.com",
            "Reset your password",
            "/reset-password",
        )
        .await?;
        browser.wait_for("#password").await?;
        browser.check_accessibility("choose a new password").await?;
        browser.expect_no_horizontal_scroll().await?;
        // The token left the address bar as soon as the page read it.
        let url = browser.client.current_url().await?;
        anyhow::ensure!(url.fragment().is_none(), "the token stays in {url}");
        browser
            .fill("password", "a brand new correct horse")
            .await?;
        browser.click("form button[type=submit]").await?;
        browser.wait_for_path("/dashboard").await?;
        browser
            .wait_for_text("[data-testid=signed-in-as]", "ana")
            .await?;
        browser.wait_for("[data-testid=password-reset]").await?;
        browser.screenshot("password-reset-signed-in").await;

        // The old password is gone, the new one works.
        browser.click(".nav-links button").await?;
        browser.click(".nav-links a[href='/login']").await?;
        browser.fill("login", "ana").await?;
        browser.fill("password", PASSWORD).await?;
        browser.click("form button[type=submit]").await?;
        browser.wait_for_text(".form-error", "wrong").await?;
        browser
            .fill("password", "a brand new correct horse")
            .await?;
        browser.click("form button[type=submit]").await?;
        browser
            .wait_for_text("[data-testid=signed-in-as]", "ana")
            .await?;
        Ok(())
    })
    .await;
}

#[tokio::test]
#[ignore = "needs the built web app and chromedriver: run scripts/test.sh"]
async fn a_person_confirms_the_address_sets_notices_and_deletes_the_account() {
    run_scenario_in(
        "account-settings",
        1280,
        900,
        "es-ES",
        async |server, browser| {
            browser.open(&format!("{}/signup", server.url)).await?;
            browser.submit_sign_up("lucia").await?;
            browser.activate(".nav-links a[href='/dashboard']").await?;
            browser
                .wait_for_text("[data-testid=confirm-email-notice]", "lucia@example.com")
                .await?;
            browser.activate(".nav-links a[href='/settings']").await?;
            browser.wait_for("[data-testid=email-unverified]").await?;
            browser
                .check_accessibility("settings, address not confirmed")
                .await?;

            follow_mailed_link(
                server,
                browser,
                "lucia@example.com",
                "Confirma tu dirección de correo",
                "/verify-email",
            )
            .await?;
            browser
                .wait_for_text("[data-testid=email-confirmed]", "lucia@example.com")
                .await?;
            browser.check_accessibility("address confirmed").await?;
            browser.screenshot("email-confirmed").await;

            browser.open(&format!("{}/dashboard", server.url)).await?;
            browser.wait_for("[data-testid=first-steps]").await?;
            anyhow::ensure!(
                browser.count("[data-testid=confirm-email-notice]").await? == 0,
                "the dashboard still asks to confirm the address"
            );
            browser.open(&format!("{}/settings", server.url)).await?;
            browser.wait_for("[data-testid=email-verified]").await?;
            browser.click("input[name=mail_sales]").await?;
            browser
                .click("#mail-title ~ form button[type=submit]")
                .await?;
            browser
                .wait_for_text("#mail-title ~ form [role=status]", "Guardado")
                .await?;
            browser.client.refresh().await?;
            browser.wait_for("[data-testid=email-verified]").await?;
            let checked = browser
                .client
                .execute(
                    "return document.querySelector('input[name=mail_sales]').checked;",
                    Vec::new(),
                )
                .await?;
            anyhow::ensure!(checked == false, "the sales notice is still on");
            browser
                .check_accessibility("settings, address confirmed")
                .await?;
            browser.screenshot("settings-account").await;

            // An unsubscribe page opened without its link says so.
            browser.open(&format!("{}/unsubscribe", server.url)).await?;
            browser.wait_for("main .form-error").await?;
            browser
                .check_accessibility("unsubscribe without a link")
                .await?;

            browser.open(&format!("{}/settings", server.url)).await?;
            browser.fill("delete_password", PASSWORD).await?;
            browser.click("input[name=delete_understood]").await?;
            browser.click(".danger-zone button[type=submit]").await?;
            browser.wait_for("[data-testid=account-deleted]").await?;
            browser.wait_for(".nav-links a[href='/login']").await?;
            browser.screenshot("account-deleted").await;
            browser.click(".nav-links a[href='/login']").await?;
            browser.fill("login", "lucia").await?;
            browser.fill("password", PASSWORD).await?;
            browser.click("form button[type=submit]").await?;
            browser.wait_for("main .form-error").await?;
            Ok(())
        },
    )
    .await;
}

/// A person makes an API key in the settings, sees its secret once, finds it listed by its
/// prefix (the secret nowhere), and revokes it.
async fn api_keys(server: &Server, browser: &Browser, width: u32) -> anyhow::Result<()> {
    browser.open(&format!("{}/signup", server.url)).await?;
    browser.submit_sign_up("integrator").await?;
    browser.open(&format!("{}/settings", server.url)).await?;
    browser.wait_for("[data-testid=api-keys]").await?;
    browser.fill("key-name", "Shop integration").await?;
    browser.click("#scope-rooms-write").await?;
    browser.click("[data-testid=api-key-create]").await?;
    browser
        .wait_for_text("[data-testid=api-key-secret]", "shown only this once")
        .await?;
    let secret = browser
        .wait_for("#api-key-secret-value")
        .await?
        .prop("value")
        .await?
        .unwrap_or_default();
    anyhow::ensure!(
        secret.starts_with("shk_") && secret.len() > 40,
        "secret {secret:?}"
    );
    browser
        .wait_for_text("[data-testid=api-key]", "Shop integration")
        .await?;
    browser
        .wait_for_text("[data-testid=api-key]", "create and change rooms")
        .await?;
    browser.screenshot(&format!("api-keys-{width}")).await;
    browser.expect_no_horizontal_scroll().await?;
    browser
        .check_accessibility("settings with an API key")
        .await?;
    // Once the page is left, the secret is gone for good.
    browser.open(&format!("{}/settings", server.url)).await?;
    browser
        .wait_for_text("[data-testid=api-key]", "Shop integration")
        .await?;
    let source = browser.client.source().await?;
    anyhow::ensure!(!source.contains(&secret), "the secret is still on the page");
    browser.click("[data-testid=api-key-revoke]").await?;
    browser
        .wait_for_text("[data-testid=api-key]", "revoked")
        .await?;
    Ok(())
}

#[tokio::test]
#[ignore = "needs the built web app and chromedriver: run scripts/test.sh"]
async fn a_person_makes_and_revokes_an_api_key_on_a_phone() {
    run_scenario("api-keys-phone", 390, 844, async |server, browser| {
        api_keys(server, browser, 390).await
    })
    .await;
}

#[tokio::test]
#[ignore = "needs the built web app and chromedriver: run scripts/test.sh"]
async fn a_person_makes_and_revokes_an_api_key_on_a_desktop() {
    run_scenario("api-keys-desktop", 1280, 900, async |server, browser| {
        api_keys(server, browser, 1280).await
    })
    .await;
}
