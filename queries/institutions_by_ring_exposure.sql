-- DuckDB twin of institutions_by_ring_exposure.cypher
WITH ring_patients AS (
    SELECT DISTINCT m.dst AS person_id
    FROM n_Ring r
    JOIN r_HAS_MEMBER m ON m.src = r.ring_id AND m.dst_label = 'Patient'
    WHERE r.score >= $min_score AND coalesce(r.status, '') <> 'vanished'
),
exposure AS (
    SELECT t.dst_label AS site_label, t.dst AS institution_id, count(DISTINCT rp.person_id) AS ring_patients,
           count(*) AS claims, sum(c.reimbursed_amount) AS reimbursed
    FROM ring_patients rp
    JOIN r_HAS_CLAIM h ON h.src = rp.person_id
    JOIN r_TREATED_AT t ON t.src = h.dst
    JOIN n_Claim c ON c.claim_key = h.dst
    GROUP BY t.dst_label, t.dst
)
SELECT e.institution_id, coalesce(i.name, ph.name) AS institution_name, coalesce(i.kind, ph.kind) AS kind,
       e.ring_patients, e.claims, round(e.reimbursed, 2) AS reimbursed
FROM exposure e
LEFT JOIN n_Institution i ON e.site_label = 'Institution' AND i.institution_id = e.institution_id
LEFT JOIN n_Pharmacy ph ON e.site_label = 'Pharmacy' AND ph.institution_id = e.institution_id
ORDER BY e.ring_patients DESC, e.reimbursed DESC, e.institution_id
