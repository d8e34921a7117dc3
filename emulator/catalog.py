"""Static vocabularies for synthetic tenants: people, places, apps, devices, outcomes."""

from __future__ import annotations

# Display names: ASCII, accented Latin, Greek, Cyrillic, CJK, Arabic, apostrophes.
FIRST_NAMES = (
    "Alex", "Zoë", "José", "Siobhán", "Ólafur", "Chloé", "Łukasz", "Søren", "Ana", "Björn",
    "Priya", "Mei", "Kenji", "Fatima", "Omar", "Élodie", "Jürgen", "Nuno", "Aoife", "Dmitri",
    "Σοφία", "Иван", "李", "美咲", "Noor", "Grace", "Liam", "Olivia", "Mateo", "Amélie",
    "Çağrı", "Đorđe", "Renée", "Tomás", "Ingrid", "Kwame", "Ngozi", "Hana", "Yusuf", "Ève",
)
LAST_NAMES = (
    "Wilbur", "Ångström", "Müller", "O'Brien", "Þórsson", "Dubois", "Wiśniewski", "Kierkegaard",
    "García", "Lindqvist", "Patel", "Chen", "Tanaka", "Haddad", "Al-Farsi", "Lefèvre",
    "Schäfer", "Gonçalves", "Ní Bhriain", "Ivanov", "Παπαδοπούλου", "Петров", "娜", "佐藤",
    "D'Angelo", "Hopper", "Murphy", "Lack", "Fernández", "Côté", "Yılmaz", "Đorđević",
    "McAllister", "Núñez", "Bergström", "Mensah", "Okafor", "Kim", "Demir", "Lévesque",
)
# ASCII forms used to build UPNs (same order as above).
FIRST_ASCII = (
    "alex", "zoe", "jose", "siobhan", "olafur", "chloe", "lukasz", "soren", "ana", "bjorn",
    "priya", "mei", "kenji", "fatima", "omar", "elodie", "jurgen", "nuno", "aoife", "dmitri",
    "sofia", "ivan", "li", "misaki", "noor", "grace", "liam", "olivia", "mateo", "amelie",
    "cagri", "dorde", "renee", "tomas", "ingrid", "kwame", "ngozi", "hana", "yusuf", "eve",
)
LAST_ASCII = (
    "wilbur", "angstrom", "muller", "o'brien", "thorsson", "dubois", "wisniewski",
    "kierkegaard", "garcia", "lindqvist", "patel", "chen", "tanaka", "haddad", "al-farsi",
    "lefevre", "schafer", "goncalves", "nibhriain", "ivanov", "papadopoulou", "petrov", "na",
    "sato", "d'angelo", "hopper", "murphy", "lack", "fernandez", "cote", "yilmaz", "dordevic",
    "mcallister", "nunez", "bergstrom", "mensah", "okafor", "kim", "demir", "levesque",
)

# (city, state, countryOrRegion, latitude, longitude, altitude or None, ip prefix)
CITIES = (
    ("Redmond", "Washington", "US", 47.68050003051758, -122.12094116210938, None, "131.107."),
    ("Seattle", "Washington", "US", 47.60620880126953, -122.33206939697266, None, "20.190."),
    ("New York", "New York", "US", 40.71277618408203, -74.00597381591797, 10.0, "40.76."),
    ("Chicago", "Illinois", "US", 41.87810897827148, -87.62979888916016, None, "52.165."),
    ("Austin", "Texas", "US", 30.267152786254883, -97.74305725097656, None, "23.100."),
    ("London", "England", "GB", 51.50735092163086, -0.12775829434394836, None, "51.140."),
    ("Dublin", "Dublin", "IE", 53.349803924560547, -6.260309696197510, None, "52.169."),
    ("Paris", "Île-de-France", "FR", 48.85661315917969, 2.3522219657897949, None, "20.74."),
    ("München", "Bayern", "DE", 48.13512420654297, 11.581980705261230, 519.0, "20.113."),
    ("São Paulo", "São Paulo", "BR", -23.550519943237305, -46.63330841064453, None, "191.232."),
    ("Reykjavík", "Höfuðborgarsvæðið", "IS", 64.14660644531250, -21.942399978637695, None,
     "157.157."),
    ("Tokyo", "Tokyo", "JP", 35.68948745727539, 139.69171142578125, None, "20.78."),
    ("Bengaluru", "Karnataka", "IN", 12.971599578857422, 77.59456634521484, None, "20.192."),
    ("Sydney", "New South Wales", "AU", -33.86881637573242, 151.20929718017578, None, "20.211."),
    ("Lagos", "Lagos", "NG", 6.524379253387451, 3.379205942153931, None, "102.89."),
    ("Moscow", "Moscow", "RU", 55.75582504272461, 37.61730194091797, None, "95.165."),
    ("Beijing", "Beijing", "CN", 39.90419006347656, 116.40739440917969, None, "123.125."),
    ("Amsterdam", "Noord-Holland", "NL", 52.36759948730469, 4.904139995574951, None, "185.220."),
)

# (appId, appDisplayName, servicePrincipalName-ish clientApp label)
CLIENT_APPS = (
    ("de8bc8b5-d9f9-48b1-a8ad-b748da725064", "Graph explorer"),
    ("c44b4083-3bb0-49c1-b47d-974e53cbdf3c", "Azure Portal"),
    ("00000002-0000-0ff1-ce00-000000000000", "Office 365 Exchange Online"),
    ("1fec8e78-bce4-4aaf-ab1b-5451cc387264", "Microsoft Teams"),
    ("4765445b-32c6-49b0-83e6-1d93765276ca", "OfficeHome"),
    ("04b07795-8ddb-461a-bbee-02f9e1bf7b46", "Microsoft Azure CLI"),
    ("29d9ed98-a469-4536-ade2-f981bc1d605e", "Microsoft Authentication Broker"),
    ("d3590ed6-52b3-4102-aeff-aad2292ab01c", "Microsoft Office"),
    ("ab9b8c07-8f02-4f72-87fa-80105867a763", "OneDrive SyncEngine"),
    ("27922004-5251-4030-b22d-91ecd9a37ea4", "Outlook Mobile"),
)
# (resourceId, resourceDisplayName)
RESOURCES = (
    ("00000003-0000-0000-c000-000000000000", "Microsoft Graph"),
    ("797f4846-ba00-4fd7-ba43-dac1f8f63013", "Windows Azure Service Management API"),
    ("00000002-0000-0ff1-ce00-000000000000", "Office 365 Exchange Online"),
    ("00000003-0000-0ff1-ce00-000000000000", "Office 365 SharePoint Online"),
    ("00000002-0000-0000-c000-000000000000", "Windows Azure Active Directory"),
    ("cc15fd57-2c6c-4117-a88c-83b1d56b4bbe", "Microsoft Teams Services"),
)
CLIENT_APP_USED = (
    "Browser", "Mobile Apps and Desktop clients", "Exchange ActiveSync", "IMAP4", "POP3",
    "Authenticated SMTP", "Exchange Web Services", "MAPI Over HTTP", "Other clients",
    "Outlook Anywhere (RPC over HTTP)",
)
# (operatingSystem, browser, userAgent)
DEVICES = (
    ("Windows 10", "Edge 120.0.2210",
     "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chrome/120.0.0.0 Safari/537.36 Edg/120.0.2210.91"),
    ("Windows 10", "Chrome 121.0.0",
     "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chrome/121.0.0.0 Safari/537.36"),
    ("MacOs", "Safari 17.2",
     "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
     "Version/17.2 Safari/605.1.15"),
    ("Ios", "Mobile Safari 17.2",
     "Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 "
     "(KHTML, like Gecko) Version/17.2 Mobile/15E148 Safari/604.1"),
    ("Android", "Chrome Mobile 120.0.6099",
     "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chrome/120.0.6099.144 Mobile Safari/537.36"),
    ("Linux", "Firefox 122.0",
     "Mozilla/5.0 (X11; Linux x86_64; rv:122.0) Gecko/20100101 Firefox/122.0"),
    ("Windows", "Rich Client 4.56.0.0", "Microsoft Office/16.0 (Windows NT 10.0; Microsoft "
     "Outlook 16.0.17126; Pro)"),
    ("Windows 10", "IE 7.0", "Mozilla/4.0 (compatible; MSIE 7.0; Windows NT 10.0; WOW64)"),
)
TRUST_TYPES = ("Azure AD joined", "Hybrid Azure AD joined", "Azure AD registered", "")

# (errorCode, failureReason, additionalDetails); 0 is success.
FAILURES = (
    (50126, "Error validating credentials due to invalid username or password.",
     "The user didn't enter the right credentials.  It's expected to see some number of "
     "these errors in your logs due to users making mistakes."),
    (50074, "Strong Authentication is required.",
     "The user is required to complete multi-factor authentication."),
    (50140, "This error occurred due to 'Keep me signed in' interrupt when the user was "
     "signing in.", None),
    (53003, "Access has been blocked by Conditional Access policies. The access policy does "
     "not allow token issuance.", None),
    (50053, "Account is locked because user tried to sign in too many times with an incorrect "
     "user ID or password.", None),
    (500121, "Authentication failed during strong authentication request.",
     "The user didn't complete the MFA prompt."),
    (50076, "Due to a configuration change made by your administrator, or because you moved to "
     "a new location, you must use multi-factor authentication to access the resource.", None),
    (70044, "The session has expired or is invalid due to sign-in frequency checks by "
     "conditional access.", None),
    (16000, "Either multiple user identities are available for the current request or selected "
     "account is not supported for the scenario.", None),
)
SUCCESS_DETAILS = (None, "MFA requirement satisfied by claim in the token",
                   "MFA completed in Azure AD", "MFA requirement satisfied by strong "
                   "authentication")

# (id, displayName, grant controls, session controls)
CA_POLICIES = (
    ("de7e60eb-ed89-4d73-8205-2227def6b7c9", "SharePoint limited access for guest workers",
     (), ("CloudAppSecurity",)),
    ("6701123a-b4c6-48af-8565-565c8bf7cabc", "Medium signin risk block", ("Block",), ()),
    ("0b2c8a4f-3e5d-4a8c-9f1e-7d6c5b4a3f21", "Require MFA for admins", ("Mfa",), ()),
    ("3f9d1c2b-8a7e-4d6f-b5c4-a3928170e6d5", "Require compliant device",
     ("RequireCompliantDevice", "RequireDomainJoinedDevice"), ("SignInFrequency",)),
    ("8c7b6a59-4d3e-4f21-9a8b-7c6d5e4f3a2b", "Sign-in frequency for unmanaged devices",
     (), ("SignInFrequency", "PersistentBrowserSessionMode")),
)

# Risk event types tied to a sign-in (real-time / offline sign-in detections).
SIGNIN_RISK_EVENTS = (
    "unfamiliarFeatures", "anonymizedIPAddress", "maliciousIPAddress", "unlikelyTravel",
    "suspiciousIPAddress", "passwordSpray", "impossibleTravel", "newCountry", "anomalousToken",
    "tokenIssuerAnomaly", "suspiciousBrowser", "riskyIPAddress", "mcasImpossibleTravel",
    "nationStateIP", "attackerinTheMiddle", "malwareInfectedIPAddress",
    "investigationsThreatIntelligenceSigninLinked", "generic",
    "maliciousIPAddressValidCredentialsBlockedIP",
)
# Risk event types of user-level (offline, not sign-in linked) detections.
USER_RISK_EVENTS = (
    "leakedCredentials", "investigationsThreatIntelligence", "anomalousUserActivity",
    "suspiciousInboxForwarding", "mcasSuspiciousInboxManipulationRules",
    "userReportedSuspiciousActivity", "attemptedPrtAccess", "suspiciousAPITraffic",
    "suspiciousSendingPatterns", "mcasFinSuspiciousFileAccess",
    "adminConfirmedUserCompromised",
)
MITRE = {
    "unfamiliarFeatures": "T1078", "anonymizedIPAddress": "T1090.003",
    "maliciousIPAddress": "T1078", "unlikelyTravel": "T1078", "passwordSpray": "T1110.003",
    "leakedCredentials": "T1589.001", "anomalousToken": "T1528", "suspiciousInboxForwarding":
    "T1114.003", "mcasSuspiciousInboxManipulationRules": "T1564.008",
    "attackerinTheMiddle": "T1557", "attemptedPrtAccess": "T1528",
}
DETECTION_SOURCES = ("IdentityProtection", "activeDirectory", "MicrosoftCloudAppSecurity",
                     "Microsoft 365 Defender")
NETWORK_NAMES = ("North America", "Corporate HQ", "VPN egress", "Branch offices", "Home Wi-Fi")
AUTH_METHODS = ("Password", "Previously satisfied", "Mobile app notification", "Text message",
                "Passkey (Microsoft Authenticator)", "Windows Hello for Business")
