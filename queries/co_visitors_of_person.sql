-- DuckDB twin of co_visitors_of_person.cypher
WITH mine AS (
    SELECT DISTINCT t.dst_label AS site_label, t.dst AS site, t.date AS day
    FROM r_HAS_CLAIM h
    JOIN r_TREATED_AT t ON t.src = h.dst
    WHERE h.src = $person_id
),
together AS (
    SELECT h.src AS person_id, m.site_label || ':' || m.site AS site, m.day
    FROM mine m
    JOIN r_TREATED_AT t ON t.dst = m.site AND t.dst_label = m.site_label AND t.date = m.day
    JOIN r_HAS_CLAIM h ON h.dst = t.src
    WHERE h.src <> $person_id
)
SELECT g.person_id, p.name, count(DISTINCT g.day) AS shared_days,
       count(DISTINCT g.site) AS institutions,
       min(g.day) AS first_shared_day, max(g.day) AS last_shared_day
FROM together g
JOIN n_Patient p ON p.person_id = g.person_id
GROUP BY g.person_id, p.name
ORDER BY shared_days DESC, g.person_id
