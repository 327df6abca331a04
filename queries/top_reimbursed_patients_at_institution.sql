-- DuckDB twin of top_reimbursed_patients_at_institution.cypher
SELECT p.person_id, p.name, count(*) AS claims, count(DISTINCT t.date) AS visit_days,
       round(sum(c.reimbursed_amount), 2) AS reimbursed
FROM r_TREATED_AT t
JOIN n_Claim c ON c.claim_key = t.src
JOIN r_HAS_CLAIM h ON h.dst = t.src
JOIN n_Patient p ON p.person_id = h.src
WHERE t.dst = $institution_id AND t.date >= $since AND t.date <= $until
GROUP BY p.person_id, p.name
ORDER BY sum(c.reimbursed_amount) DESC, p.person_id
LIMIT $top
