// name: persons_sharing_identifier
// description: Persons registered with the same phone, bank account or address as a given person, with the shared identifier (in its own column, so masking applies) and how many persons share it
// param: person_id string
MATCH (p:Patient {person_id: $person_id})-[r:HAS_PHONE|HAS_ACCOUNT|LIVES_AT]->(ident:Phone|BankAccount|Address)
MATCH (ident)<-[s:HAS_PHONE|HAS_ACCOUNT|LIVES_AT]-(holder:Patient)
WHERE type(s) = type(r)
WITH p, ident, collect(DISTINCT holder) AS holders
UNWIND holders AS other
WITH p, ident, size(holders) AS sharers, other
WHERE other <> p
RETURN other.person_id AS person_id, other.name AS name,
       CASE WHEN ident:Phone THEN 'Phone' WHEN ident:BankAccount THEN 'BankAccount' ELSE 'Address' END
         AS identifier_type,
       ident.phone AS phone, ident.account AS bank_account, ident.address AS address, sharers
ORDER BY sharers DESC, identifier_type, phone, bank_account, address, person_id
