/// The word lists and well-known ids a synthetic tenant is made from.
enum TenantVocabulary {
    static let givenNames = [
        "Ada", "Adele", "Ahmed", "Aiko", "Alex", "Alice", "Amara", "Amelia", "Ana", "Andrei", "Anika", "Arjun", "Astrid", "Ben",
        "Bianca", "Carlos", "Chen", "Chloe", "Chidi", "Daniel", "Dara", "David", "Diego", "Elena", "Elif", "Emma", "Ethan", "Fatima",
        "Felix", "Freya", "Gabriel", "Grace", "Hana", "Hannah", "Hiro", "Ines", "Isaac", "Ivan", "Jack", "Jamal", "Jana", "Javier",
        "Jin", "Joao", "Julia", "Kai", "Kamala", "Karin", "Kenji", "Lara", "Leila", "Lena", "Leo", "Liam", "Lin", "Lucas", "Lucia",
        "Mai", "Marco", "Maria", "Mateo", "Maya", "Mehmet", "Mia", "Mohammed", "Nadia", "Nia", "Niklas", "Noah", "Nora", "Olga",
        "Omar", "Oscar", "Pablo", "Priya", "Rafael", "Rajesh", "Rania", "Rosa", "Ryan", "Sakura", "Samir", "Sara", "Sebastian",
        "Sofia", "Soren", "Sunita", "Tariq", "Thomas", "Tomas", "Uma", "Valentina", "Victor", "Wei", "Yara", "Yusuf", "Zainab", "Zoe",
    ]

    static let surnames = [
        "Abe", "Adams", "Ahmed", "Alvarez", "Andersen", "Bauer", "Becker", "Brown", "Castro", "Chen", "Costa", "Dubois", "Eriksson",
        "Fischer", "Garcia", "Gonzalez", "Gupta", "Hansen", "Hart", "Hoffmann", "Huang", "Ivanova", "Iyer", "Jansen", "Jensen",
        "Johnson", "Kaur", "Khan", "Kim", "Kowalski", "Kumar", "Larsen", "Lee", "Lopez", "Martin", "Meyer", "Mehta", "Moreau",
        "Muller", "Murphy", "Nakamura", "Nguyen", "Novak", "Okafor", "Olsen", "Park", "Patel", "Petrov", "Quinn", "Rossi", "Santos",
        "Sato", "Schmidt", "Schneider", "Silva", "Singh", "Smith", "Sousa", "Suzuki", "Tanaka", "Taylor", "Torres", "Wagner",
        "Walsh", "Wang", "Weber", "Williams", "Wilson", "Wong", "Yamamoto", "Yilmaz", "Young", "Zhang", "Zimmermann",
    ]

    /// Departments with their share of staff and job titles (the first title is the head's).
    static let departments: [(name: String, weight: Int, titles: [String])] = [
        (
            "Engineering", 22,
            [
                "VP Engineering", "Engineering Manager", "Senior Software Engineer", "Software Engineer", "QA Engineer",
                "Site Reliability Engineer",
            ]
        ),
        ("Sales", 16, ["VP Sales", "Sales Manager", "Account Executive", "Sales Development Representative", "Solutions Engineer"]),
        ("Operations", 12, ["COO", "Operations Manager", "Operations Analyst", "Logistics Coordinator"]),
        ("Customer Support", 10, ["Head of Support", "Support Team Lead", "Support Engineer", "Customer Success Manager"]),
        ("Marketing", 7, ["CMO", "Marketing Manager", "Content Strategist", "Product Marketing Manager", "Designer"]),
        ("Finance", 6, ["CFO", "Finance Manager", "Accountant", "Financial Analyst", "Payroll Specialist"]),
        ("IT", 6, ["CIO", "IT Manager", "Systems Administrator", "Identity Engineer", "Service Desk Analyst"]),
        ("Human Resources", 5, ["CHRO", "HR Business Partner", "Recruiter", "HR Generalist"]),
        ("Product", 5, ["CPO", "Product Manager", "Product Owner", "UX Researcher"]),
        ("Research", 4, ["Head of Research", "Research Scientist", "Data Scientist", "Lab Technician"]),
        ("Legal", 2, ["General Counsel", "Counsel", "Paralegal", "Compliance Officer"]),
        ("Facilities", 2, ["Facilities Director", "Facilities Coordinator", "Office Manager"]),
        ("Procurement", 2, ["Head of Procurement", "Buyer", "Vendor Manager"]),
        ("Security", 1, ["CISO", "Security Engineer", "Security Analyst"]),
    ]

    /// Offices: city, country, usageLocation (ISO 3166 alpha-2), phone prefix, weight.
    static let offices: [(city: String, country: String, usageLocation: String, phone: String, weight: Int)] = [
        ("Seattle", "United States", "US", "+1 206 555", 30),
        ("New York", "United States", "US", "+1 212 555", 12),
        ("London", "United Kingdom", "GB", "+44 20 7946", 12),
        ("Berlin", "Germany", "DE", "+49 30 901820", 9),
        ("Paris", "France", "FR", "+33 1 70 36", 6),
        ("Toronto", "Canada", "CA", "+1 416 555", 6),
        ("Bangalore", "India", "IN", "+91 80 4567", 10),
        ("Tokyo", "Japan", "JP", "+81 3 4567", 5),
        ("Sydney", "Australia", "AU", "+61 2 5550", 4),
        ("Sao Paulo", "Brazil", "BR", "+55 11 5555", 3),
        ("Madrid", "Spain", "ES", "+34 91 555", 3),
    ]

    /// Partner organisations whose people are guests.
    static let partnerDomains = [
        "fabrikam.com", "northwindtraders.com", "adventure-works.com", "tailspintoys.com",
        "wingtiptoys.com", "woodgrovebank.com", "litwareinc.com", "proseware.com",
    ]

    static let projectWords = [
        "Phoenix", "Atlas", "Orion", "Nova", "Aurora", "Everest", "Falcon", "Horizon", "Lighthouse",
        "Mercury", "Nimbus", "Polaris", "Quantum", "Sequoia", "Tidal", "Vanguard", "Zephyr", "Summit",
        "Harbor", "Beacon", "Compass", "Keystone", "Meridian", "Pinnacle",
    ]

    static let groupTopics = [
        "Project", "Team", "Committee", "Working Group", "Guild", "Champions", "Squad", "Program", "Council",
        "Community", "Taskforce", "Pilot",
    ]

    static let appNouns = [
        "Expenses", "Payroll", "Timesheets", "CRM", "Inventory", "Helpdesk", "Wiki", "Travel", "Procurement",
        "Onboarding", "Analytics", "Billing", "Contracts", "Learning", "Recruiting", "Assets", "Reporting",
        "Scheduler", "Forms", "Approvals", "Portal", "Notifications", "Search", "Archive",
    ]

    /// Microsoft Graph's first-party service principal (same appId in every tenant).
    static let graphAppID = "00000003-0000-0000-c000-000000000000"
    static let microsoftTenantID = "f8cdef31-a31e-4b4a-93e4-5f571e91255a"
    /// Delegated scopes of Microsoft Graph: value → stable id.
    static let graphScopes: [(value: String, id: String)] = [
        ("User.Read", "e1fe6dd8-ba31-4d61-89e7-88639da4683d"),
        ("openid", "37f7f235-527c-4136-accd-4a02d197296e"),
        ("profile", "14dad69e-099b-42c9-810b-d002981feec1"),
        ("email", "64a6cdd6-aab1-4aaf-94b8-3cc8405e90d0"),
        ("offline_access", "7427e0e9-2fba-42fe-b0c0-848c9e6a8182"),
    ]
    /// Application permissions of Microsoft Graph: value → stable id.
    static let graphAppRoles: [(value: String, id: String)] = [
        ("User.Read.All", "df021288-bdef-4463-88db-98f22de89214"),
        ("Group.Read.All", "5b567255-7703-4780-807c-7be8301ae99b"),
        ("Directory.Read.All", "7ab1d382-f21e-4acd-a863-ba3e13f7da61"),
        ("Mail.Send", "b633e1c5-b582-4048-a93e-9f11b44c7e96"),
    ]

    /// Built-in directory roles: display name → template id (the same in every tenant).
    static let builtInRoles: [(name: String, id: String, description: String)] = [
        (
            "Global Administrator", "62e90394-69f5-4237-9190-012177145e10",
            "Can manage all aspects of Microsoft Entra ID and Microsoft services that use Microsoft Entra identities."
        ),
        (
            "User Administrator", "fe930be7-5e62-47db-91af-98c3a49a38b1",
            "Can manage all aspects of users and groups, including resetting passwords for limited admins."
        ),
        (
            "Helpdesk Administrator", "729827e3-9c14-49f7-bb1b-9608f156bbb8",
            "Can reset passwords for non-administrators and Helpdesk Administrators."
        ),
        (
            "Security Administrator", "194ae4cb-b126-40b2-bd5b-6091b380977d",
            "Can read security information and reports, and manage configuration in Microsoft Entra ID and Office 365."
        ),
        (
            "Application Administrator", "9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3",
            "Can create and manage all aspects of app registrations and enterprise apps."
        ),
        ("Conditional Access Administrator", "b1be1c3e-b65d-4f19-8427-f6fa0d97feb9", "Can manage Conditional Access capabilities."),
        (
            "Groups Administrator", "fdd7a751-b60b-444a-984c-02652fe8fa1c",
            "Members of this role can create/manage groups, create/manage groups settings like naming and expiration policies, and view groups activity and audit reports."
        ),
        (
            "Global Reader", "f2ef992c-3afb-46b9-b7cf-a126ee74c451",
            "Can read everything that a Global Administrator can, but not update anything."
        ),
    ]
}
