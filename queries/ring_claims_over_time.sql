-- DuckDB twin of ring_claims_over_time.cypher
WITH ring AS (
    SELECT ring_id FROM n_Ring WHERE ring_id = $ring_id
),
sites AS (
    SELECT m.dst AS institution_id
    FROM r_HAS_MEMBER m JOIN ring r ON r.ring_id = m.src
    WHERE m.dst_label IN ('Institution', 'Pharmacy')
),
patients AS (
    SELECT DISTINCT m.dst AS person_id
    FROM r_HAS_MEMBER m JOIN ring r ON r.ring_id = m.src
    WHERE m.dst_label = 'Patient'
),
claims AS (
    SELECT p.person_id, c.claim_key, c.reimbursed_amount,
           substr(CAST(c.start_date AS VARCHAR), 1, 7) AS month,
           c.institution_id IN (SELECT institution_id FROM sites) AS at_ring_site
    FROM patients p
    JOIN r_HAS_CLAIM h ON h.src = p.person_id
    JOIN n_Claim c ON c.claim_key = h.dst
)
SELECT month, count(*) AS claims, count(DISTINCT person_id) AS patients,
       round(sum(reimbursed_amount), 2) AS reimbursed,
       sum(CASE WHEN at_ring_site THEN 1 ELSE 0 END) AS claims_at_ring_sites,
       round(sum(CASE WHEN at_ring_site THEN reimbursed_amount ELSE 0.0 END), 2) AS reimbursed_at_ring_sites
FROM claims
GROUP BY month
ORDER BY month
