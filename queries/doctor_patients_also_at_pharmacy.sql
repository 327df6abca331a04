-- DuckDB twin of doctor_patients_also_at_pharmacy.cypher
WITH doctor_claims AS (
    SELECT h.src AS person_id, count(DISTINCT b.src) AS doctor_claims
    FROM r_BY_DOCTOR b
    JOIN r_HAS_CLAIM h ON h.dst = b.src
    WHERE b.dst = $doctor_id
    GROUP BY h.src
),
pharmacy_claims AS (
    SELECT h.src AS person_id, count(DISTINCT c.claim_key) AS pharmacy_claims,
           sum(c.reimbursed_amount) AS pharmacy_reimbursed
    FROM r_TREATED_AT t
    JOIN n_Claim c ON c.claim_key = t.src
    JOIN r_HAS_CLAIM h ON h.dst = t.src
    WHERE t.dst = $pharmacy_id AND t.dst_label = 'Pharmacy'
    GROUP BY h.src
)
SELECT p.person_id, p.name, d.doctor_claims, ph.pharmacy_claims,
       round(ph.pharmacy_reimbursed, 2) AS pharmacy_reimbursed
FROM doctor_claims d
JOIN pharmacy_claims ph ON ph.person_id = d.person_id
JOIN n_Patient p ON p.person_id = d.person_id
ORDER BY ph.pharmacy_claims DESC, p.person_id
