-- DuckDB twin of persons_sharing_identifier.cypher
WITH links AS (
    SELECT 'Phone' AS identifier_type, src AS person_id, dst AS identifier FROM r_HAS_PHONE
    UNION ALL
    SELECT 'BankAccount', src, dst FROM r_HAS_ACCOUNT
    UNION ALL
    SELECT 'Address', src, dst FROM r_LIVES_AT
),
mine AS (
    SELECT DISTINCT identifier_type, identifier FROM links WHERE person_id = $person_id
),
holders AS (
    SELECT l.identifier_type, l.identifier, l.person_id,
           count(*) OVER (PARTITION BY l.identifier_type, l.identifier) AS sharers
    FROM (SELECT DISTINCT * FROM links) l
    JOIN mine m ON m.identifier_type = l.identifier_type AND m.identifier = l.identifier
)
SELECT h.person_id, p.name, h.identifier_type,
       CASE WHEN h.identifier_type = 'Phone' THEN h.identifier END AS phone,
       CASE WHEN h.identifier_type = 'BankAccount' THEN h.identifier END AS bank_account,
       CASE WHEN h.identifier_type = 'Address' THEN h.identifier END AS address,
       h.sharers
FROM holders h
JOIN n_Patient p ON p.person_id = h.person_id
WHERE h.person_id <> $person_id
ORDER BY h.sharers DESC, h.identifier_type, h.identifier, h.person_id
