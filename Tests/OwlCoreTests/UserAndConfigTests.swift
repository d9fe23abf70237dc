import Foundation
import OwlCore
import OwlTestSupport
import PostgresNIO
import Testing

@Suite struct UserTests {
    @Test func crudAndDeactivation() async throws {
        let app = try await TestApp.make()
        let (_, admin) = try await TestDatabase.makeTenant(app.database)
        try await app.test { client in
            let created = try await client.call(.post, "/api/v1/users", key: admin,
                                                json: #"{"email":"carol@example.com","display_name":"  Carol  ","role":"manager"}"#)
            #expect(created.status == .created)
            #expect(created.json["display_name"]?.stringValue == "Carol")
            let id = try #require(created.json["id"]?.stringValue)

            let duplicate = try await client.call(.post, "/api/v1/users", key: admin, json: #"{"email":"CAROL@example.com","display_name":"C2","role":"manager"}"#)
            #expect(duplicate.status == .conflict)

            let updated = try await client.call(.put, "/api/v1/users/\(id)", key: admin, json: #"{"role":"engineer"}"#)
            #expect(updated.json["role"]?.stringValue == "engineer")
            #expect(updated.json["email"]?.stringValue == "carol@example.com")

            let deleted = try await client.call(.delete, "/api/v1/users/\(id)", key: admin)
            #expect(deleted.status == .ok)
            #expect(deleted.json["is_active"]?.boolValue == false)
            let fetched = try await client.call(.get, "/api/v1/users/\(id)", key: admin)
            #expect(fetched.json["is_active"]?.boolValue == false, "delete deactivates, the record stays")

            let active = try await client.call(.get, "/api/v1/users?active=true", key: admin)
            #expect(active.json["total"]?.numberValue == 0)
            let all = try await client.call(.get, "/api/v1/users?limit=1&offset=0", key: admin)
            #expect(all.json["total"]?.numberValue == 1)
            #expect(all.json["limit"]?.numberValue == 1)
        }
    }

    @Test(arguments: [
        (#"{"email":"not-an-email","display_name":"X","role":"engineer"}"#, 422, "email"),
        (#"{"email":"a@b.example","display_name":"","role":"engineer"}"#, 422, "display_name"),
        (#"{"email":"a@b.example","display_name":"X","role":"superuser"}"#, 422, "role"),
        (#"{"email":"a@b.example","role":"engineer"}"#, 422, "display_name"),
        (#"{"email":42,"display_name":"X","role":"engineer"}"#, 422, "email"),
        (#"{"email":"a@b.example","display_name":"X","#, 400, ""),
        (#"[1,2]"#, 422, ""),
        (#""#, 400, ""),
    ])
    func badInputIsA4xxThatNamesTheField(body: String, status: Int, field: String) async throws {
        let app = try await TestApp.make()
        let (tenant, admin) = try await TestDatabase.makeTenant(app.database)
        try await app.test { client in
            let response = try await client.call(.post, "/api/v1/users", key: admin, json: body)
            #expect(Int(response.status.code) == status)
            #expect(response.errorCode != nil)
            #expect(response.json["error"]?["message"]?.stringValue?.isEmpty == false)
            if !field.isEmpty { #expect(response.json["error"]?["details"]?["field"]?.stringValue == field) }
        }
        let count = try await app.database.scalar("SELECT count(*) FROM users", in: tenant.slug, as: Int.self) ?? -1
        #expect(count == 0, "nothing is written")
    }
}

@Suite struct TenantConfigTests {
    @Test func settingsAndSealedSecrets() async throws {
        let app = try await TestApp.make()
        let (tenant, admin) = try await TestDatabase.makeTenant(app.database)
        try await app.test { client in
            let put = try await client.call(.put, "/api/v1/admin/config", key: admin, json: """
                {"settings":{"retention_days_alerts":30,"default_timezone":"Europe/Berlin","slack_mode":"live"},
                 "secrets":{"bookowl_api_key":"ow_bookowl_secret_value_123"}}
                """)
            #expect(put.status == .ok)
            #expect(!put.text.contains("ow_bookowl_secret_value_123"))
            #expect(put.json["settings"]?["retention_days_alerts"]?.numberValue == 30)
            #expect(put.json["secrets"]?["bookowl_api_key"]?["configured"]?.boolValue == true)
            #expect(put.json["secrets"]?["slack_bot_token"]?["configured"]?.boolValue == false)

            let get = try await client.call(.get, "/api/v1/admin/config", key: admin)
            #expect(!get.text.contains("ow_bookowl_secret_value_123"))
            #expect(get.json["settings"]?["default_timezone"]?.stringValue == "Europe/Berlin")

            let cleared = try await client.call(.put, "/api/v1/admin/config", key: admin, json: #"{"settings":{"slack_mode":null}}"#)
            #expect(cleared.json["settings"]?["slack_mode"] == nil)
            #expect(cleared.json["settings"]?["retention_days_alerts"]?.numberValue == 30, "other settings are kept")
        }
        // At rest the secret is AES-GCM ciphertext; the service can still open it.
        let raw = try await TenantStore(database: app.database).config(tenantID: tenant.id).jsonText()
        #expect(!raw.contains("ow_bookowl_secret_value_123"))
        #expect(try await app.platform.tenantConfig.secret("bookowl_api_key", tenantID: tenant.id) == "ow_bookowl_secret_value_123")
    }

    @Test(arguments: [
        #"{"settings":{"retention_days_alerts":0}}"#,
        #"{"settings":{"retention_days_alerts":"30"}}"#,
        #"{"settings":{"default_timezone":"Mars/Olympus"}}"#,
        #"{"settings":{"slack_mode":"loud"}}"#,
        #"{"settings":{"twilio_from_number":"0301234"}}"#,
        #"{"settings":{"bookowl_api_url":"javascript:alert(1)"}}"#,
        #"{"settings":{"no_such_setting":1}}"#,
        #"{"secrets":{"no_such_secret":"x"}}"#,
        #"{"secrets":{"slack_bot_token":""}}"#,
        #"{"settings":{"retention_days_alerts":30,"slack_mode":"loud"}}"#,
    ])
    func invalidChangesAreRefusedWhole(body: String) async throws {
        let app = try await TestApp.make()
        let (tenant, admin) = try await TestDatabase.makeTenant(app.database)
        try await app.test { client in
            let response = try await client.call(.put, "/api/v1/admin/config", key: admin, json: body)
            #expect(response.status == .unprocessableContent)
            #expect(response.errorCode == "validation_failed")
        }
        #expect(try await TenantStore(database: app.database).config(tenantID: tenant.id) == .object([:]), "nothing is written")
    }
}
