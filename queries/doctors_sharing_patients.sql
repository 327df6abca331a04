-- DuckDB twin of doctors_sharing_patients.cypher
WITH patients AS (
    SELECT DISTINCT h.src AS person_id
    FROM r_BY_DOCTOR b
    JOIN r_HAS_CLAIM h ON h.dst = b.src
    WHERE b.dst = $doctor_id
),
shared AS (
    SELECT b.dst AS doctor_id, count(DISTINCT p.person_id) AS shared_patients
    FROM patients p
    JOIN r_HAS_CLAIM h ON h.src = p.person_id
    JOIN r_BY_DOCTOR b ON b.src = h.dst
    WHERE b.dst <> $doctor_id
    GROUP BY b.dst
)
SELECT d.doctor_id, d.name AS doctor_name, d.institution_id, s.shared_patients
FROM shared s
JOIN n_Doctor d ON d.doctor_id = s.doctor_id
ORDER BY s.shared_patients DESC, d.doctor_id
